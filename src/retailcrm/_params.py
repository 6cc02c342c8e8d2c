"""One parameter checker, one message: what, allowed values, got, fix.

Every public function and configuration class checks its parameters here, so a wrong value
always reads the same way (scikit-learn's habit)::

    The 'returns' parameter of customer_features must be one of ['net', 'exclude', 'keep'].
    Got 'drop' instead. Fix: 'net' (refunds reduce spend), ...

Examples
--------
>>> from retailcrm._params import check_choice
>>> check_choice("net", ("net", "exclude"), name="returns", owner="customer_features")
'net'
>>> check_choice("drop", ("net", "exclude"), name="returns", owner="customer_features")
Traceback (most recent call last):
...
retailcrm.exceptions.ConfigError: The 'returns' parameter of customer_features must be one of ['net', 'exclude']. Got 'drop' instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

from retailcrm.exceptions import ConfigError

__all__ = [
    "check_choice",
    "check_int",
    "check_number",
    "check_windows",
    "parameter_error",
]

T = TypeVar("T")


def parameter_error(
    name: str, owner: str, expected: str, got: Any, fix: str = "", *, shown: str | None = None
) -> ConfigError:
    """The one message template: ``The 'name' parameter of owner must be expected. Got x
    instead. Fix: ...``; ``shown`` replaces ``repr(got)`` (e.g. a shortened long text)."""
    got_text = repr(got) if shown is None else shown
    text = f"The {name!r} parameter of {owner} must be {expected}. Got {got_text} instead."
    return ConfigError(f"{text} Fix: {fix}" if fix else text)


def check_choice(value: Any, allowed: Sequence[T], *, name: str, owner: str, fix: str = "") -> T:
    """``value`` if it is one of ``allowed`` (compared with ``==``, never by truthiness)."""
    for option in allowed:
        if type(value) is type(option) and value == option:
            return option
    raise parameter_error(name, owner, f"one of {list(allowed)}", value, fix)


def check_int(
    value: Any,
    *,
    name: str,
    owner: str,
    low: int | None = None,
    high: int | None = None,
    fix: str = "",
) -> int:
    """A whole number (not a bool) within ``[low, high]``."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok and hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":
        value, ok = int(value), True  # numpy integers
    if ok and (low is None or value >= low) and (high is None or value <= high):
        return int(value)
    raise parameter_error(name, owner, f"an int in {_interval(low, high)}", value, fix)


def check_number(
    value: Any,
    *,
    name: str,
    owner: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    fix: str = "",
) -> float:
    """A finite real number (not a bool) within the interval; open ends where asked."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok and hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iuf":
        value, ok = float(value), True
    if ok and math.isfinite(value):
        above = low is None or (value > low if low_open else value >= low)
        below = high is None or (value < high if high_open else value <= high)
        if above and below:
            return float(value)
    expected = f"a finite number in {_interval(low, high, low_open, high_open)}"
    raise parameter_error(name, owner, expected, value, fix)


def check_windows(windows: Any, *, owner: str, name: str = "windows") -> tuple[int, ...]:
    """Day windows: distinct positive whole numbers, returned in increasing order.

    >>> check_windows([90, 30], owner="customer_features")
    (30, 90)
    """
    fix = f"e.g. {name}=(30, 90, 180, 365): distinct positive whole numbers of days."
    if isinstance(windows, str | bytes) or not isinstance(windows, Sequence | set | frozenset):
        raise parameter_error(name, owner, "a sequence of whole numbers of days", windows, fix)
    values = []
    for w in windows:
        if isinstance(w, bool) or not isinstance(w, int) or w <= 0:
            raise parameter_error(name, owner, "positive whole numbers of days", windows, fix)
        values.append(int(w))
    if len(set(values)) != len(values):
        raise parameter_error(name, owner, "distinct (each window once)", windows, fix)
    return tuple(sorted(values))


def _interval(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    left = "(" if low is None or low_open else "["
    right = ")" if high is None or high_open else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"
