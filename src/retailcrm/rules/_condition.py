"""One condition as a narwhals expression: :func:`condition_expr`, for use inside pipelines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw

from retailcrm._dates import parse_as_of
from retailcrm.exceptions import ConfigError
from retailcrm.rules._compiler import AS_OF_FUNCTIONS, compile_condition
from retailcrm.rules._diagnostics import ProblemsError, show_text, syntax_error
from retailcrm.rules._nodes import function_names
from retailcrm.rules._parser import parse_condition

__all__ = ["condition_expr"]


def condition_expr(condition: str, schema: Mapping[str, Any], *, as_of: Any = None) -> nw.Expr:
    """Compile one condition into a boolean narwhals expression for frames with ``schema``.

    The building block behind :class:`RuleSet`, for modules and notebooks that filter or flag
    rows inside their own narwhals pipelines. The result is ``True``/``False`` on every row:
    where the condition is missing (a value it needs is missing) it is ``False``, the rule
    sets' default null policy.

    Parameters
    ----------
    condition : str
        A condition in the rule language, e.g. ``"orders_90d >= 4"``.
    schema : mapping
        Column name -> narwhals dtype, e.g. ``nw.from_native(df).collect_schema()``.
    as_of : date, datetime or ISO string, optional
        Required when the condition uses ``days_since()`` or ``days_until()``.

    Returns
    -------
    narwhals.Expr
        A boolean expression (never null).

    Raises
    ------
    RuleSyntaxError
        The condition does not parse or does not fit the schema; the message has a caret.
    ConfigError
        ``days_since()``/``days_until()`` without ``as_of``.

    Examples
    --------
    >>> import narwhals.stable.v2 as nw
    >>> import pandas as pd
    >>> from retailcrm.rules import condition_expr
    >>> df = nw.from_native(pd.DataFrame({"orders_90d": [5, 1, None]}))
    >>> mask = condition_expr("orders_90d >= 4", df.collect_schema())
    >>> df.filter(mask).to_native()
       orders_90d
    0         5.0
    """
    try:
        node = parse_condition(condition)
        needs = sorted(function_names(node) & AS_OF_FUNCTIONS)
        if needs and as_of is None:
            raise ConfigError(
                f"the condition {show_text(condition)} uses {', '.join(f + '()' for f in needs)}, which "
                "count(s) days from as_of, but as_of was not given. "
                "Fix: pass as_of='2024-12-31' (the date the features are as of)."
            )
        parsed = None if as_of is None else parse_as_of(as_of)
        return compile_condition(node, schema, as_of=parsed).expr.fill_null(False)
    except ProblemsError as exc:
        error = syntax_error([(None, condition, exc.problems)])
        assert error is not None
        raise error from None
