"""Markov projections of a transition matrix: the stage mix ahead and migration CLV."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import polars as pl

from retailcrm._engine import collect_polars, engine_of
from retailcrm._params import check_int, check_number, parameter_error
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.lifecycle._transitions import ENTERED, EXITED

__all__ = ["migration_clv", "project_stage_mix", "transition_probabilities"]


def transition_probabilities(matrix: Any, *, owner: str) -> tuple[list[str], np.ndarray]:
    """The states and the one-step probability matrix ``P`` of a :func:`transition_matrix`
    result (counts or shares): rows are normalised over the states and ``exited``, so the
    probability of leaving is lost mass; ``entered`` is dropped; a state with no customers
    at the start stays where it is (its row is the identity's)."""
    frame = nw.from_native(matrix)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.pipe(collect_polars)
    table = frame.to_polars() if hasattr(frame, "to_polars") else frame.to_native()
    names = list(table.columns)
    missing = [c for c in ("from", "statistic", EXITED) if c not in names]
    if missing:
        raise MissingColumnsError(
            missing,
            available=names,
            role="matrix",
            fix="pass the result of transition_matrix (counts or normalize=True).",
        )
    states = [c for c in names if c not in ("from", "statistic", EXITED, "total")]
    rows = table.filter(
        pl.col("statistic").is_in(["customers", "share"]) & (pl.col("from") != ENTERED)
    )
    p = np.eye(len(states))
    for row in rows.iter_rows(named=True):
        src = row["from"]
        if src not in states:
            raise ConfigError(
                f"{owner}: the matrix has a row {src!r} but no column for it. Fix: pass the "
                "result of transition_matrix, whose rows and columns hold the same labels."
            )
        values = np.array([float(row[s] or 0.0) for s in states])
        total = values.sum() + float(row[EXITED] or 0.0)
        if total > 0:
            p[states.index(src)] = values / total
    return states, p


def _values(mapping: Any, states: list[str], name: str, owner: str, *, fill: bool) -> np.ndarray:
    if hasattr(mapping, "items") and not isinstance(mapping, Mapping):
        mapping = dict(mapping.items())  # a pandas Series
    if not isinstance(mapping, Mapping):
        raise parameter_error(
            name, owner, "a dict {stage: number}", mapping, shown=type(mapping).__name__
        )
    unknown = [k for k in mapping if k not in states]
    absent = [s for s in states if s not in mapping]
    if unknown or (absent and not fill):
        parts = []
        if unknown:
            parts.append(f"not states of the matrix: {unknown}")
        if absent and not fill:
            parts.append(f"missing states: {absent}")
        raise ConfigError(
            f"{owner}: {name} has {'; '.join(parts)} (the states: {states}). Fix: give one "
            "number per state" + ("" if fill else " (0 for a state worth nothing)") + "."
        )
    out = []
    for s in states:
        v = mapping.get(s, 0.0)
        out.append(check_number(v, name=f"{name}[{s!r}]", owner=owner))
    return np.array(out)


def project_stage_mix(matrix: Any, current_mix: Any, steps: int) -> Any:
    """The expected number of customers in each stage over the next ``steps`` periods.

    Parameters
    ----------
    matrix : dataframe
        A :func:`transition_matrix` result (counts or shares) over one period, e.g. a month.
    current_mix : dict or pandas Series
        Customers per stage now, ``{stage: count}``; stages not given count 0.
    steps : int
        Periods to project (each the length of the matrix's period).

    Returns
    -------
    dataframe
        The matrix's kind of frame: ``step`` (0 is ``current_mix``) and one column per stage
        with the expected customers.

    Notes
    -----
    A first-order, time-homogeneous Markov chain: the mix after :math:`t` periods is
    :math:`m_t = m_0 P^t`, where :math:`P` holds the row shares of the matrix. It assumes the
    next stage depends only on the current one (not on how long a customer has been in it)
    and that the shares of the observed period hold in every future period — seasonality
    and campaigns break that. The population is closed: customers who enter later are not
    counted, and those who exit (the ``exited`` column) leave the totals.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import project_stage_mix
    >>> matrix = pd.DataFrame({
    ...     "from": ["active", "dormant", "entered"], "statistic": ["customers"] * 3,
    ...     "active": [80, 10, 0], "dormant": [20, 90, 0], "exited": [0, 0, 0],
    ...     "total": [100, 100, 0],
    ... })
    >>> project_stage_mix(matrix, {"active": 1000, "dormant": 0}, steps=2)
       step  active  dormant
    0     0  1000.0      0.0
    1     1   800.0    200.0
    2     2   660.0    340.0
    """
    states, p = transition_probabilities(matrix, owner="project_stage_mix")
    n = check_int(steps, name="steps", owner="project_stage_mix", low=0)
    mix = _values(current_mix, states, "current_mix", "project_stage_mix", fill=True)
    rows = [mix]
    for _ in range(n):
        rows.append(rows[-1] @ p)
    data: dict[str, Any] = {"step": list(range(n + 1))}
    data |= {s: [float(r[i]) for r in rows] for i, s in enumerate(states)}
    table = pl.DataFrame(data, schema={"step": pl.Int64} | dict.fromkeys(states, pl.Float64))
    return engine_of(matrix, name="matrix").small_native(table, like=matrix)


def migration_clv(matrix: Any, value_by_stage: Any, *, discount_rate: float, steps: int) -> Any:
    """Expected discounted value of a customer by starting stage (Pfeifer & Carraway 2000).

    Parameters
    ----------
    matrix : dataframe
        A :func:`transition_matrix` result (counts or shares) over one period.
    value_by_stage : dict or pandas Series
        The net value a customer brings in one period in each stage, ``{stage: value}``
        (every stage of the matrix; 0 for stages worth nothing).
    discount_rate : float
        Per period, ``d >= 0`` (e.g. 0.01 a month).
    steps : int
        The horizon ``T`` in periods; period 0 (the current one) is counted.

    Returns
    -------
    dataframe
        The matrix's kind of frame: ``stage`` and ``clv``, one row per stage.

    Notes
    -----
    The customer migration model of Pfeifer and Carraway (2000, "Modeling customer
    relationships as Markov chains", *Journal of Interactive Marketing* 14(2)):

    .. math:: V^T = \\sum_{t=0}^{T} \\left[(1+d)^{-1} P\\right]^t R

    with :math:`P` the one-period transition probabilities (row shares of the matrix) and
    :math:`R` the values by stage; entry :math:`i` of :math:`V^T` is the expected discounted
    value of a customer who starts in stage :math:`i`. The Markov assumptions of
    :func:`project_stage_mix` apply.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import migration_clv
    >>> matrix = pd.DataFrame({
    ...     "from": ["active", "churned", "entered"], "statistic": ["customers"] * 3,
    ...     "active": [50, 0, 0], "churned": [50, 100, 0], "exited": [0, 0, 0],
    ...     "total": [100, 100, 0],
    ... })
    >>> migration_clv(matrix, {"active": 100.0, "churned": 0.0}, discount_rate=0.0, steps=2)
         stage    clv
    0   active  175.0
    1  churned    0.0
    """
    owner = "migration_clv"
    states, p = transition_probabilities(matrix, owner=owner)
    d = check_number(discount_rate, name="discount_rate", owner=owner, low=0.0)
    n = check_int(steps, name="steps", owner=owner, low=0)
    r = _values(value_by_stage, states, "value_by_stage", owner, fill=False)
    step = p / (1.0 + d)
    value = r.copy()
    term = r.copy()
    for _ in range(n):
        term = step @ term
        value = value + term
    table = pl.DataFrame(
        {"stage": states, "clv": [float(v) for v in value]},
        schema={"stage": pl.String, "clv": pl.Float64},
    )
    return engine_of(matrix, name="matrix").small_native(table, like=matrix)
