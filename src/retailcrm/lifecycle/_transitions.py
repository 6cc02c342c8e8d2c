"""Moves between stages (or any labels) across dates: matrices, flows and rates."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import day_number, day_number_of, parse_as_of, period_start_of
from retailcrm._engine import Engine, collect_polars, lazy_frame
from retailcrm._params import check_number, parameter_error
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError

__all__ = [
    "ENTERED",
    "EXITED",
    "churn_rate",
    "reactivation_rate",
    "rechurn_rate",
    "stage_flows",
    "transition_matrix",
    "wilson_interval",
]

#: The row of customers absent at the start date (not yet customers then).
ENTERED = "entered"
#: The column of customers absent at the end date.
EXITED = "exited"
_RESERVED = ("from", "statistic", "total", ENTERED, EXITED)
_LAPSED = ("dormant", "churned")


def wilson_interval(k: float, n: float, level: float) -> tuple[float, float]:
    """Wilson's score interval for a share ``k / n`` (Wilson 1927); NaN for ``n == 0``.

    >>> [round(x, 4) for x in wilson_interval(8, 10, 0.95)]
    [0.4902, 0.9433]
    """
    from scipy.stats import norm

    if n <= 0:
        return math.nan, math.nan
    z = float(norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _check_level(level: Any, owner: str) -> float:
    return check_number(
        level, name="level", owner=owner, low=0, high=1, low_open=True, high_open=True
    )


def _history(
    history: Any, key: str, label: str, date_column: str, owner: str
) -> tuple[nw.LazyFrame[Any], Engine]:
    for name, value in (("key", key), ("label", label), ("date_column", date_column)):
        if not (isinstance(value, str) and value):
            raise parameter_error(name, owner, "a column name", value)
    lf, engine = lazy_frame(history, name="history")
    names = list(lf.collect_schema().names())
    missing = [c for c in dict.fromkeys((key, date_column, label)) if c not in names]
    if missing:
        raise MissingColumnsError(
            missing,
            available=names,
            role="history",
            fix="pass a long table with one row per customer and date (stage_history's "
            "result), or name its columns with key=, label=, date_column=.",
        )
    return lf.select(
        nw.col(key).alias("__key"),
        day_number(nw.col(date_column), lf.implementation).alias("__day"),
        nw.col(label).cast(nw.String).alias("__label"),
    ), engine


def _step_counts(lf: nw.LazyFrame[Any], days: Sequence[int], label: str) -> pl.DataFrame:
    """Customers per (step, from, to) between consecutive ``days``: ``__step`` is the index
    of the later day; ``__from`` is null for customers absent at the earlier day (entered),
    ``__to`` null for those absent at the later one (exited). Computed in the engine; the
    small result is collected."""
    index = {d: i for i, d in enumerate(days)}
    lf = lf.filter(nw.col("__day").is_in(list(days)))
    step = nw.lit(0, nw.Int64)
    for d, i in index.items():
        step = nw.when(nw.col("__day") == d).then(nw.lit(i, nw.Int64)).otherwise(step)
    lf = lf.with_columns(step.alias("__step"))
    at = lf.select(
        "__key",
        "__step",
        nw.lit(None, nw.String).alias("__from"),
        nw.col("__label").alias("__to"),
        nw.lit(1, nw.Int64).alias("__n_to"),
        nw.lit(0, nw.Int64).alias("__n_from"),
        nw.col("__label").is_null().cast(nw.Int64).alias("__null"),
    )
    before = lf.select(
        "__key",
        (nw.col("__step") + 1).cast(nw.Int64).alias("__step"),
        nw.col("__label").alias("__from"),
        nw.lit(None, nw.String).alias("__to"),
        nw.lit(0, nw.Int64).alias("__n_to"),
        nw.lit(1, nw.Int64).alias("__n_from"),
        nw.lit(0, nw.Int64).alias("__null"),
    )
    pairs = (
        nw.concat([at, before], how="vertical")
        .filter((nw.col("__step") >= 1) & (nw.col("__step") < len(days)))
        .group_by("__key", "__step")
        .agg(
            nw.col("__from").max(),
            nw.col("__to").max(),
            nw.col("__n_to").sum().cast(nw.Int64).alias("__n_to"),
            nw.col("__n_from").sum().cast(nw.Int64).alias("__n_from"),
            nw.col("__null").sum().cast(nw.Int64).alias("__null"),
        )
    )
    counts = pairs.group_by("__step", "__from", "__to").agg(
        nw.len().cast(nw.Int64).alias("customers"),
        nw.max_horizontal(nw.col("__n_to"), nw.col("__n_from")).max().alias("__dup"),
        nw.col("__null").max().alias("__null"),
    )
    table = counts.pipe(collect_polars).to_native()
    assert isinstance(table, pl.DataFrame)
    if table.height and int(table.select(pl.col("__dup").max()).item() or 0) > 1:
        raise InvalidDataError(
            "history: a customer has more than one row at one date. Fix: keep one row per "
            "customer and date (stage_history gives one)."
        )
    if table.height and int(table.select(pl.col("__null").max()).item() or 0) > 0:
        raise InvalidDataError(
            f"history: the column {label!r} is missing (null) for some customers. Fix: fill "
            "the missing labels (e.g. give the rule set a default) first."
        )
    return table.drop("__dup", "__null")


def _check_dates_present(
    lf: nw.LazyFrame[Any], counts: pl.DataFrame, dates: tuple[Any, Any], owner: str
) -> None:
    """Both dates have rows (a date not in the history is a typo, not an empty period)."""
    absent = [
        d
        for d, column in zip(dates, ("__from", "__to"), strict=True)
        if counts.filter(pl.col(column).is_not_null()).height == 0
    ]
    if not absent:
        return
    found = lf.select("__day").unique().pipe(collect_polars).to_native()
    days = sorted(int(d) for d in found["__day"].to_list() if d is not None)
    shown = [str(period_start_of(d, "D")) for d in days[:6]] + (["..."] if len(days) > 6 else [])
    raise ConfigError(
        f"{owner}: the history has no rows at {', '.join(str(d) for d in absent)}. Its dates: "
        f"{', '.join(shown) or 'none'}. Fix: pass dates of the history."
    )


def _day(value: Any, name: str) -> tuple[Any, int]:
    parsed = parse_as_of(value, name=name)
    return parsed.date, day_number_of(parsed.date)


def transition_matrix(
    history: Any,
    *,
    from_date: Any,
    to_date: Any,
    label: str = "stage",
    normalize: bool = False,
    level: float = 0.95,
    key: str = "customer_id",
    date_column: str = "date",
    order: Sequence[str] | None = None,
) -> Any:
    """How many customers moved from each label at ``from_date`` to each at ``to_date``.

    Parameters
    ----------
    history : dataframe
        A long table, one row per customer and date: :func:`stage_history`'s result, or any
        table of labels by date (segments, tiers), of any supported engine.
    from_date, to_date : date or ISO string
        Two dates of the history.
    label : str
        The label column (``"stage"``, ``"rule_id"``, ``"segment"``, ``"tier"`` ...).
    normalize : bool
        ``False``: counts. ``True``: row shares (each row sums to 1 over the labels and
        ``exited``), each with Wilson's score interval.
    level : float
        Confidence level of the intervals (default 0.95).
    key, date_column : str
        The customer key and date columns of ``history``.
    order : sequence of str, optional
        The labels in the order to show them (default: sorted), e.g. ``STAGES``; listed
        labels are rows and columns even when no customer has them, so matrices of several
        periods line up. Labels of the history not listed follow, sorted.

    Returns
    -------
    dataframe
        A wide matrix, the caller's kind of frame. Columns: ``from`` (the label at
        ``from_date``, then ``"entered"`` for customers absent at ``from_date``),
        ``statistic``, one column per label (the label at ``to_date``), ``exited``
        (customers absent at ``to_date``) and ``total`` (the row's customers). With counts,
        ``statistic`` is ``"customers"`` and there is one row per ``from`` label; with
        ``normalize=True`` three rows per label: ``"share"``, ``"low"`` and ``"high"``.
        Row totals (without ``entered``) are the label counts at ``from_date``; column sums
        (without ``exited``) the counts at ``to_date``.

    Raises
    ------
    MissingColumnsError
        ``history`` lacks the key, date or label column.
    InvalidDataError
        A customer has two rows at one date, or a label is missing.
    ConfigError
        ``from_date`` not before ``to_date``; a label named like a reserved column.

    Notes
    -----
    The share of row ``i``, column ``j`` is :math:`n_{ij} / n_i`; its interval is Wilson's
    (1927) score interval, which stays inside [0, 1] and behaves for small rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import transition_matrix
    >>> history = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 1, 2, 3, 4],
    ...     "date": pd.to_datetime(["2024-01-31"] * 3 + ["2024-02-29"] * 4),
    ...     "stage": ["active", "active", "dormant", "active", "dormant", "dormant", "new"],
    ... })
    >>> transition_matrix(history, from_date="2024-01-31", to_date="2024-02-29")
          from  statistic  active  dormant  new  exited  total
    0   active  customers       1        1    0       0      2
    1  dormant  customers       0        1    0       0      1
    2      new  customers       0        0    0       0      0
    3  entered  customers       0        0    1       0      1

    Rows and columns hold every label of either date. Row shares with intervals:

    >>> shares = transition_matrix(history, from_date="2024-01-31", to_date="2024-02-29",
    ...                            normalize=True)
    >>> shares[shares["from"] == "active"].round(3)
         from statistic  active  dormant    new  exited  total
    0  active     share   0.500    0.500  0.000   0.000      2
    1  active       low   0.095    0.095  0.000   0.000      2
    2  active      high   0.905    0.905  0.658   0.658      2
    """
    owner = "transition_matrix"
    if not isinstance(normalize, bool):
        raise parameter_error("normalize", owner, "True or False", normalize)
    lvl = _check_level(level, owner)
    (start, d0), (end, d1) = _day(from_date, "from_date"), _day(to_date, "to_date")
    if d0 >= d1:
        raise ConfigError(
            f"{owner}: from_date ({start}) must be before to_date ({end}). Fix: swap them."
        )
    lf, engine = _history(history, key, label, date_column, owner)
    counts = _step_counts(lf, [d0, d1], label)
    _check_dates_present(lf, counts, (start, end), owner)
    labels = _order(counts, order)
    table = _matrix(counts, labels, normalize, lvl)
    return engine.small_native(table, like=history)


def _order(counts: pl.DataFrame, order: Sequence[str] | None) -> list[str]:
    seen = {v for c in ("__from", "__to") for v in counts[c].to_list() if v is not None}
    clash = sorted(seen & set(_RESERVED))
    if clash:
        raise ConfigError(
            f"transition_matrix: label(s) {clash} are reserved column names of the matrix. "
            "Fix: rename those labels first."
        )
    first = [] if order is None else [str(x) for x in order]
    return [*dict.fromkeys(first), *sorted(seen - set(first))]


def _matrix(counts: pl.DataFrame, labels: list[str], normalize: bool, level: float) -> pl.DataFrame:
    cell: dict[tuple[str, str], int] = {}
    for row in counts.iter_rows(named=True):
        src = ENTERED if row["__from"] is None else row["__from"]
        dst = EXITED if row["__to"] is None else row["__to"]
        cell[(src, dst)] = cell.get((src, dst), 0) + int(row["customers"])
    sources = [*labels, ENTERED]
    targets = [*labels, EXITED]
    rows: list[dict[str, Any]] = []
    for src in sources:
        total = sum(cell.get((src, dst), 0) for dst in targets)
        if not normalize:
            rows.append(
                {"from": src, "statistic": "customers"}
                | {dst: cell.get((src, dst), 0) for dst in targets}
                | {"total": total}
            )
            continue
        bounds = {dst: wilson_interval(cell.get((src, dst), 0), total, level) for dst in targets}
        share = {dst: cell.get((src, dst), 0) / total if total else None for dst in targets}
        low = {dst: None if total == 0 else bounds[dst][0] for dst in targets}
        high = {dst: None if total == 0 else bounds[dst][1] for dst in targets}
        for name, values in (("share", share), ("low", low), ("high", high)):
            rows.append({"from": src, "statistic": name} | values | {"total": total})
    value_type = pl.Float64 if normalize else pl.Int64
    schema: dict[str, Any] = {"from": pl.String, "statistic": pl.String}
    schema |= dict.fromkeys(targets, value_type) | {"total": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def stage_flows(
    history: Any,
    *,
    label: str = "stage",
    key: str = "customer_id",
    date_column: str = "date",
) -> Any:
    """Customers moving between labels from each date of the history to the next.

    The long table a Sankey (alluvial) diagram needs.

    Parameters
    ----------
    history : dataframe
        One row per customer and date (:func:`stage_history`'s result or any label history).
    label, key, date_column : str
        The label, customer key and date columns.

    Returns
    -------
    dataframe
        The caller's kind of frame, sorted by ``date``, ``from``, ``to``: ``date`` (the later
        date of each step between consecutive dates of the history), ``from`` (the label at
        the date before; ``"entered"`` for customers absent then), ``to`` (the label at
        ``date``; ``"exited"`` for customers absent at ``date``) and ``customers``. Only
        non-empty flows are rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import stage_flows
    >>> history = pd.DataFrame({
    ...     "customer_id": [1, 2, 1, 2, 3, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 3 + ["2024-03-31"] * 3),
    ...     "stage": ["new", "active", "active", "active", "new", "active", "dormant", "active"],
    ... })
    >>> stage_flows(history)
            date     from       to  customers
    0 2024-02-29   active   active          1
    1 2024-02-29  entered      new          1
    2 2024-02-29      new   active          1
    3 2024-03-31   active   active          1
    4 2024-03-31   active  dormant          1
    5 2024-03-31      new   active          1
    """
    lf, engine = _history(history, key, label, date_column, "stage_flows")
    found = lf.select("__day").unique().pipe(collect_polars).to_native()
    days = sorted(int(d) for d in found["__day"].to_list() if d is not None)
    if len(days) < 2:
        table = pl.DataFrame(
            schema={"date": pl.Date, "from": pl.String, "to": pl.String, "customers": pl.Int64}
        )
        return engine.small_native(table, like=history)
    counts = _step_counts(lf, days, label)
    dates = pl.Series([days[i] for i in counts["__step"].to_list()], dtype=pl.Int64)
    table = (
        counts.with_columns(
            date=pl.lit(0, pl.Int64).add(dates).cast(pl.Date),
            **{"from": pl.col("__from").fill_null(ENTERED), "to": pl.col("__to").fill_null(EXITED)},
        )
        .select("date", "from", "to", "customers")
        .sort("date", "from", "to")
    )
    return engine.small_native(table, like=history)


def _rate(
    history: Any,
    from_date: Any,
    to_date: Any,
    column: str,
    key: str,
    date_column: str,
    level: float,
    owner: str,
    base: Any,
    event: Any,
) -> Any:
    lvl = _check_level(level, owner)
    (start, d0), (end, d1) = _day(from_date, "from_date"), _day(to_date, "to_date")
    if d0 >= d1:
        raise ConfigError(
            f"{owner}: from_date ({start}) must be before to_date ({end}). Fix: swap them."
        )
    lf, engine = _history(history, key, column, date_column, owner)
    counts = _step_counts(lf, [d0, d1], column)
    _check_dates_present(lf, counts, (start, end), owner)
    n = k = 0
    for row in counts.iter_rows(named=True):
        src, dst = row["__from"], row["__to"]
        if src is None or dst is None or not base(src):
            continue
        n += int(row["customers"])
        k += int(row["customers"]) if event(dst) else 0
    low, high = wilson_interval(k, n, lvl)
    table = pl.DataFrame(
        {
            "from_date": [start],
            "to_date": [end],
            "customers": [n],
            "moved": [k],
            "rate": [k / n if n else None],
            "rate_low": [None if n == 0 else low],
            "rate_high": [None if n == 0 else high],
        },
        schema={
            "from_date": pl.Date,
            "to_date": pl.Date,
            "customers": pl.Int64,
            "moved": pl.Int64,
            "rate": pl.Float64,
            "rate_low": pl.Float64,
            "rate_high": pl.Float64,
        },
    )
    return engine.small_native(table, like=history)


def churn_rate(
    history: Any,
    *,
    from_date: Any,
    to_date: Any,
    column: str = "rule_id",
    level: float = 0.95,
    key: str = "customer_id",
    date_column: str = "date",
) -> Any:
    """The share of buyers not yet churned at ``from_date`` who are churned at ``to_date``.

    Counted: customers whose stage at ``from_date`` is neither ``prospect`` nor ``churned``
    (``dormant`` included); moved: those ``churned`` at ``to_date``.

    Parameters
    ----------
    history : dataframe
        :func:`stage_history`'s result (any engine).
    from_date, to_date : date or ISO string
        Two dates of the history, ``from_date`` first.
    column : str
        The column holding the stage ids of the built-in policies (default ``"rule_id"``,
        the same whatever the label language).
    level : float
        Confidence level of Wilson's interval (default 0.95).
    key, date_column : str
        The customer key and date columns.

    Returns
    -------
    dataframe
        One row, the caller's kind of frame: ``from_date``, ``to_date``, ``customers`` (the
        customers counted: present at both dates, in the stages named above at
        ``from_date``), ``moved`` (those who made the move), ``rate`` (``moved /
        customers``; missing when no customer counts) and ``rate_low``, ``rate_high``
        (Wilson's score interval).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import churn_rate
    >>> history = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4, 1, 2, 3, 4],
    ...     "date": pd.to_datetime(["2024-01-31"] * 4 + ["2024-07-31"] * 4),
    ...     "rule_id": ["active", "dormant", "churned", "mature",
    ...                 "churned", "churned", "churned", "mature"],
    ... })
    >>> churn_rate(history, from_date="2024-01-31", to_date="2024-07-31")
       from_date    to_date  customers  moved      rate  rate_low  rate_high
    0 2024-01-31 2024-07-31          3      2  0.666667   0.20766   0.938508
    """
    return _rate(
        history,
        from_date,
        to_date,
        column,
        key,
        date_column,
        level,
        "churn_rate",
        base=lambda s: s not in ("prospect", "churned"),
        event=lambda s: s == "churned",
    )


def reactivation_rate(
    history: Any,
    *,
    from_date: Any,
    to_date: Any,
    column: str = "rule_id",
    level: float = 0.95,
    key: str = "customer_id",
    date_column: str = "date",
) -> Any:
    """The share of lapsed customers at ``from_date`` who are back at ``to_date``.

    Counted: customers ``dormant`` or ``churned`` at ``from_date``; moved: those neither
    ``dormant`` nor ``churned`` at ``to_date`` (they bought in between).

    Parameters
    ----------
    history : dataframe
        :func:`stage_history`'s result (any engine).
    from_date, to_date : date or ISO string
        Two dates of the history, ``from_date`` first.
    column : str
        The column holding the stage ids of the built-in policies (default ``"rule_id"``,
        the same whatever the label language).
    level : float
        Confidence level of Wilson's interval (default 0.95).
    key, date_column : str
        The customer key and date columns.

    Returns
    -------
    dataframe
        One row, the caller's kind of frame: ``from_date``, ``to_date``, ``customers`` (the
        customers counted: present at both dates, in the stages named above at
        ``from_date``), ``moved`` (those who made the move), ``rate`` (``moved /
        customers``; missing when no customer counts) and ``rate_low``, ``rate_high``
        (Wilson's score interval).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import reactivation_rate
    >>> history = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-31"] * 3 + ["2024-02-29"] * 3),
    ...     "rule_id": ["dormant", "churned", "active", "reactivated", "churned", "active"],
    ... })
    >>> reactivation_rate(history, from_date="2024-01-31", to_date="2024-02-29")[["customers", "moved", "rate"]]
       customers  moved  rate
    0          2      1   0.5
    """
    return _rate(
        history,
        from_date,
        to_date,
        column,
        key,
        date_column,
        level,
        "reactivation_rate",
        base=lambda s: s in _LAPSED,
        event=lambda s: s not in _LAPSED,
    )


def rechurn_rate(
    history: Any,
    *,
    from_date: Any,
    to_date: Any,
    column: str = "rule_id",
    level: float = 0.95,
    key: str = "customer_id",
    date_column: str = "date",
) -> Any:
    """The share of reactivated customers at ``from_date`` who lapsed again by ``to_date``.

    Counted: customers ``reactivated`` at ``from_date``; moved: those ``dormant`` or
    ``churned`` at ``to_date``.

    Parameters
    ----------
    history : dataframe
        :func:`stage_history`'s result (any engine).
    from_date, to_date : date or ISO string
        Two dates of the history, ``from_date`` first.
    column : str
        The column holding the stage ids of the built-in policies (default ``"rule_id"``,
        the same whatever the label language).
    level : float
        Confidence level of Wilson's interval (default 0.95).
    key, date_column : str
        The customer key and date columns.

    Returns
    -------
    dataframe
        One row, the caller's kind of frame: ``from_date``, ``to_date``, ``customers`` (the
        customers counted: present at both dates, in the stages named above at
        ``from_date``), ``moved`` (those who made the move), ``rate`` (``moved /
        customers``; missing when no customer counts) and ``rate_low``, ``rate_high``
        (Wilson's score interval).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import rechurn_rate
    >>> history = pd.DataFrame({
    ...     "customer_id": [1, 2, 1, 2],
    ...     "date": pd.to_datetime(["2024-03-31"] * 2 + ["2024-09-30"] * 2),
    ...     "rule_id": ["reactivated", "reactivated", "dormant", "active"],
    ... })
    >>> rechurn_rate(history, from_date="2024-03-31", to_date="2024-09-30")[["customers", "moved", "rate"]]
       customers  moved  rate
    0          2      1   0.5
    """
    return _rate(
        history,
        from_date,
        to_date,
        column,
        key,
        date_column,
        level,
        "rechurn_rate",
        base=lambda s: s == "reactivated",
        event=lambda s: s in _LAPSED,
    )
