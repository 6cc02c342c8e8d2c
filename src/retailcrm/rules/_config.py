"""Checks shared by the rule configs: parameter types and the keys of ``from_dict`` input."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from retailcrm._params import parameter_error
from retailcrm.exceptions import ConfigError, did_you_mean
from retailcrm.rules._diagnostics import show_text

__all__ = ["bad_parameter", "check_keys"]


def bad_parameter(name: str, owner: str, expected: str, value: Any) -> ConfigError:
    """``The 'mode' parameter of RuleSet must be 'first' or 'all'. Got 'any' instead.``"""
    got = show_text(value, 60) if isinstance(value, str) else show_text(repr(value), 60)[1:-1]
    return parameter_error(name, owner, expected, value, shown=got)


def check_keys(
    data: Any,
    *,
    owner: str,
    allowed: Collection[str],
    required: Collection[str],
    where: str = "",
) -> Mapping[str, Any]:
    """``data`` as a mapping whose keys are all allowed and include the required ones.

    Every unknown and missing key is reported at once, with a "did you mean" for typos.
    """
    place = f" ({where})" if where else ""
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{owner}.from_dict{place} needs a mapping (e.g. a dict loaded from YAML or JSON), "
            f"got {type(data).__name__}."
        )
    problems = []
    for key in data:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            text = f"unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else "")
            problems.append(text)
    problems += [f"missing key {key!r}" for key in required if key not in data]
    if problems:
        raise ConfigError(
            f"{owner}.from_dict{place}: " + "; ".join(problems) + ". "
            f"Allowed keys: {sorted(allowed)}."
        )
    return data
