"""sample_data: a realistic, deterministic synthetic retailer."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs
import numpy as np

from retailcrm._dates import parse_as_of
from retailcrm.exceptions import ConfigError

__all__ = ["PERSONAS", "SampleData", "sample_data"]

#: Behaviour mix of the synthetic customers: (share, orders per year, active-life shape).
PERSONAS: dict[str, tuple[float, float]] = {
    "loyal": (0.12, 14.0),
    "growing": (0.12, 8.0),
    "occasional": (0.26, 2.5),
    "lapsing": (0.16, 6.0),
    "churned": (0.16, 4.0),
    "seasonal": (0.10, 3.0),
    "new": (0.08, 6.0),
}
CATEGORIES = ("apparel", "beauty", "home", "electronics", "grocery", "sports", "books", "toys")
_CATEGORY_PRICE = np.array([3.9, 3.4, 3.7, 4.8, 2.6, 3.8, 2.8, 3.2])  # log-mean line value
CHANNELS = ("store", "web", "app", "mini-program")
REGIONS = ("north", "south", "east", "west", "central")


@attrs.frozen(kw_only=True)
class SampleData:
    """The frames of :func:`sample_data` (pandas DataFrames).

    Attributes
    ----------
    customers : DataFrame
        ``customer_id, registered_at, birthday, region, gender, acquisition_channel, persona``
        (``persona`` is the behaviour the generator used — ground truth for checks).
    transactions : DataFrame
        ``order_id, customer_id, timestamp, product_id, category, channel, quantity, amount,
        discount``; returns are negative lines of the same order, a few days later.
    campaigns : DataFrame
        ``customer_id, campaign_id, channel, contacted_at, responded, responded_at``.
    surveys : DataFrame
        NPS answers: ``customer_id, answered_at, score`` (0–10).
    marketing_spend : DataFrame
        ``month, channel, spend`` (acquisition spend per channel and month).
    events : DataFrame
        Behaviour events: ``customer_id, timestamp, event_type, product_id, category``, with
        ``event_type`` one of ``view``, ``cart``, ``favourite`` and ``search`` (a search has
        a category and no product). Views (and some carts) precede a share of the purchases;
        other sessions browse products that are not bought, some in the last days of the
        period.
    start, end : datetime.date
        The period covered; ``end`` is a natural ``as_of``.
    """

    customers: Any
    transactions: Any
    campaigns: Any
    surveys: Any
    marketing_spend: Any
    events: Any
    start: _dt.date
    end: _dt.date

    def __repr__(self) -> str:
        """A few lines: the period and each table's shape (not the frames themselves)."""
        names = ("customers", "transactions", "campaigns", "surveys", "marketing_spend", "events")
        lines = [f"SampleData({self.start} → {self.end})"]
        for name in names:
            rows, cols = getattr(self, name).shape
            lines.append(f"  {name:<16}{rows:>11,} rows × {cols} columns")
        return "\n".join(lines)


def sample_data(
    n_customers: int = 5_000,
    *,
    seed: int = 0,
    start: Any = "2023-01-01",
    end: Any = "2024-12-31",
) -> SampleData:
    """Generate a synthetic retailer: customers, transactions, campaigns, surveys, spend, events.

    Deterministic for a given ``seed``. Behaviours are mixed (:data:`PERSONAS`: loyal,
    growing, occasional, lapsing, churned, seasonal, new) so that every segment, stage and tier
    has members. About 10 transaction lines per customer: ``n_customers=1_000_000`` gives
    roughly 10 million lines (a few seconds, ~1.5 GB).

    Parameters
    ----------
    n_customers : int
        Number of customers (≥ 1).
    seed : int
        Random seed.
    start, end : date or ISO string
        First and last day of the period.

    Returns
    -------
    SampleData

    Examples
    --------
    >>> from retailcrm.data import sample_data
    >>> data = sample_data(200, seed=1)
    >>> data.customers.shape[0]
    200
    >>> sorted(data.transactions.columns)
    ['amount', 'category', 'channel', 'customer_id', 'discount', 'order_id', 'product_id', 'quantity', 'timestamp']
    >>> bool((data.transactions["amount"] < 0).any())  # some returns
    True
    """
    import pandas as pd

    if not isinstance(n_customers, int | np.integer) or n_customers < 1:
        raise ConfigError(f"n_customers must be a positive integer, got {n_customers!r}.")
    d0, d1 = parse_as_of(start, name="start").date, parse_as_of(end, name="end").date
    if d1 <= d0:
        raise ConfigError(f"end ({d1}) must be after start ({d0}).")
    span = (d1 - d0).days + 1
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    base = np.datetime64(d0, "D")

    names = list(PERSONAS)
    shares = np.array([PERSONAS[p][0] for p in names])
    persona = rng.choice(len(names), size=n, p=shares / shares.sum())
    rate = np.array([PERSONAS[p][1] for p in names])[persona] / 365.25
    rate = rate * rng.lognormal(0.0, 0.35, n)

    # registration: "new" customers in the last 45 days, others over the first 85% of the span
    reg = (rng.random(n) * span * 0.85).astype(np.int64)
    is_new = persona == names.index("new")
    reg[is_new] = span - 1 - (rng.random(int(is_new.sum())) * 45).astype(np.int64)
    # active life: lapsing stop in the last 4–8 months, churned stop early
    life_end = np.full(n, span - 1, dtype=np.int64)
    lapsing = persona == names.index("lapsing")
    life_end[lapsing] = span - 1 - (120 + rng.random(int(lapsing.sum())) * 120).astype(np.int64)
    churned = persona == names.index("churned")
    life_end[churned] = np.minimum(
        reg[churned] + (60 + rng.random(int(churned.sum())) * 240).astype(np.int64), span - 1
    )
    life_end = np.maximum(life_end, reg)
    active = (life_end - reg + 1).astype(np.float64)
    n_orders = rng.poisson(rate * active) + 1  # registration comes with a first order

    # order days within the active life (growing: density rises over time; seasonal: Nov–Dec)
    cust = np.repeat(np.arange(n), n_orders)
    u = rng.random(cust.size)
    growing = persona[cust] == names.index("growing")
    u[growing] = np.sqrt(u[growing])
    first = np.r_[0, np.cumsum(n_orders)[:-1]]
    u[first] = 0.0  # the first order is on the registration day
    day = reg[cust] + (u * active[cust]).astype(np.int64)
    seasonal = (persona[cust] == names.index("seasonal")) & (u > 0)
    if seasonal.any():
        dates = base + day[seasonal].astype("timedelta64[D]")
        years = dates.astype("datetime64[Y]")
        shift = (years + np.timedelta64(10, "M")).astype("datetime64[D]") + rng.integers(
            0, 55, int(seasonal.sum())
        ).astype("timedelta64[D]")
        day[seasonal] = np.minimum((shift - base).astype(np.int64), span - 1)
    seconds = rng.integers(8 * 3600, 22 * 3600, cust.size)
    order_ts = (base + day.astype("timedelta64[D]")).astype("datetime64[s]") + seconds.astype(
        "timedelta64[s]"
    )
    n_orders_total = cust.size
    order_id = np.arange(1, n_orders_total + 1)

    # customer preferences
    fav_cat = rng.integers(0, len(CATEGORIES), n)
    fav_channel = rng.choice(len(CHANNELS), size=n, p=[0.45, 0.25, 0.2, 0.1])

    # lines
    n_lines = 1 + rng.poisson(0.8, n_orders_total)
    line_order = np.repeat(np.arange(n_orders_total), n_lines)
    line_cust = cust[line_order]
    cat = np.where(
        rng.random(line_order.size) < 0.6,
        fav_cat[line_cust],
        rng.integers(0, len(CATEGORIES), line_order.size),
    )
    order_channel = np.where(
        rng.random(n_orders_total) < 0.75,
        fav_channel[cust],
        rng.integers(0, len(CHANNELS), n_orders_total),
    )
    quantity = 1 + rng.poisson(0.3, line_order.size)
    unit = np.round(rng.lognormal(_CATEGORY_PRICE[cat], 0.5), 2)
    discounted = rng.random(n_orders_total) < 0.2
    disc_rate = np.where(discounted, rng.choice([0.1, 0.2, 0.3], n_orders_total), 0.0)[line_order]
    gross = unit * quantity
    discount = np.round(gross * disc_rate, 2)
    amount = np.round(gross - discount, 2)
    product = cat * 1000 + rng.integers(0, 200, line_order.size)

    # returns: 4% of lines come back 3–20 days later (not after the end)
    is_ret = rng.random(line_order.size) < 0.04
    ret_idx = np.flatnonzero(is_ret)
    ret_ts = order_ts[line_order[ret_idx]] + (rng.integers(3, 21, ret_idx.size) * 86400).astype(
        "timedelta64[s]"
    )
    last_ts = (base + np.timedelta64(span, "D")).astype("datetime64[s]") - np.timedelta64(1, "s")
    keep = ret_ts <= last_ts
    ret_idx, ret_ts = ret_idx[keep], ret_ts[keep]

    all_order = np.r_[line_order, line_order[ret_idx]]
    ts = np.r_[order_ts[line_order], ret_ts]
    ids = _customer_ids(n)
    transactions = pd.DataFrame(
        {
            "order_id": order_id[all_order],
            "customer_id": ids[cust[all_order]],
            "timestamp": ts.astype("datetime64[us]"),
            "product_id": np.r_[product, product[ret_idx]],
            "category": np.asarray(CATEGORIES, dtype=object)[np.r_[cat, cat[ret_idx]]],
            "channel": np.asarray(CHANNELS, dtype=object)[order_channel[all_order]],
            "quantity": np.r_[quantity, -quantity[ret_idx]].astype(np.int64),
            "amount": np.r_[amount, -amount[ret_idx]],
            "discount": np.r_[discount, -discount[ret_idx]],
        }
    )
    transactions = transactions.sort_values(["timestamp", "order_id"], kind="stable")
    transactions = transactions.reset_index(drop=True)

    customers = _customers(rng, ids, reg, base, persona, names, fav_channel)
    campaigns = _campaigns(rng, ids, persona, names, base, span)
    surveys = _surveys(rng, ids, persona, names, reg, life_end, base)
    spend = _marketing_spend(rng, customers, d0, d1)
    # events come from a stream of their own, so every other table is what it always was
    ev_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    first_line = np.r_[0, np.cumsum(n_lines)[:-1]]
    events = _events(
        ev_rng,
        ids,
        persona,
        reg,
        life_end,
        fav_cat,
        cust,
        order_ts,
        product[first_line],
        cat[first_line],
        base,
        span,
    )
    return SampleData(
        customers=customers,
        transactions=transactions,
        campaigns=campaigns,
        surveys=surveys,
        marketing_spend=spend,
        events=events,
        start=d0,
        end=d1,
    )


def _customer_ids(n: int) -> Any:
    width = max(6, len(str(n)))
    return np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def _customers(
    rng: np.random.Generator,
    ids: Any,
    reg: Any,
    base: Any,
    persona: Any,
    names: list[str],
    fav_channel: Any,
) -> Any:
    import pandas as pd

    n = ids.size
    age_days = (rng.normal(38, 11, n).clip(18, 80) * 365.25).astype(np.int64)
    reg_dates = base + reg.astype("timedelta64[D]")
    birthday = reg_dates - age_days.astype("timedelta64[D]")
    has_birthday = rng.random(n) < 0.8  # consent is not universal
    return pd.DataFrame(
        {
            "customer_id": ids,
            "registered_at": reg_dates.astype("datetime64[us]"),
            "birthday": pd.Series(birthday.astype("datetime64[us]")).where(has_birthday),
            "region": np.asarray(REGIONS, dtype=object)[
                rng.choice(len(REGIONS), n, p=[0.25, 0.2, 0.25, 0.15, 0.15])
            ],
            "gender": np.asarray(["female", "male", "unknown"], dtype=object)[
                rng.choice(3, n, p=[0.58, 0.38, 0.04])
            ],
            "acquisition_channel": np.asarray(CHANNELS, dtype=object)[fav_channel],
            "persona": np.asarray(names, dtype=object)[persona],
        }
    )


def _campaigns(
    rng: np.random.Generator, ids: Any, persona: Any, names: list[str], base: Any, span: int
) -> Any:
    import pandas as pd

    n = ids.size
    n_contacts = rng.poisson(3.0, n)
    cust = np.repeat(np.arange(n), n_contacts)
    p_resp = np.array([0.35, 0.3, 0.12, 0.08, 0.04, 0.15, 0.2])[persona[cust]]
    responded = rng.random(cust.size) < p_resp
    day = rng.integers(0, span, cust.size)
    contacted = (base + day.astype("timedelta64[D]")).astype("datetime64[us]")
    lag = rng.integers(0, 8, cust.size).astype("timedelta64[D]")
    responded_at = pd.Series(contacted + lag).where(responded)
    campaign = rng.integers(1, 25, cust.size)
    return pd.DataFrame(
        {
            "customer_id": ids[cust],
            "campaign_id": np.char.add("CMP", np.char.zfill(campaign.astype(str), 3)).astype(
                object
            ),
            "channel": np.asarray(["email", "sms", "app-push", "wechat"], dtype=object)[
                rng.integers(0, 4, cust.size)
            ],
            "contacted_at": contacted,
            "responded": responded,
            "responded_at": responded_at,
        }
    )


def _surveys(
    rng: np.random.Generator,
    ids: Any,
    persona: Any,
    names: list[str],
    reg: Any,
    life_end: Any,
    base: Any,
) -> Any:
    import pandas as pd

    answered = rng.random(ids.size) < 0.3
    idx = np.flatnonzero(answered)
    mean_score = np.array([9.0, 8.3, 7.4, 6.4, 5.2, 7.6, 8.0])[persona[idx]]
    score = np.clip(np.round(rng.normal(mean_score, 1.6)), 0, 10).astype(np.int64)
    day = reg[idx] + (rng.random(idx.size) * (life_end[idx] - reg[idx] + 1)).astype(np.int64)
    return pd.DataFrame(
        {
            "customer_id": ids[idx],
            "answered_at": (base + day.astype("timedelta64[D]")).astype("datetime64[us]"),
            "score": score,
        }
    )


def _marketing_spend(rng: np.random.Generator, customers: Any, d0: _dt.date, d1: _dt.date) -> Any:
    import pandas as pd

    months = pd.period_range(d0, d1, freq="M")
    reg_month = customers["registered_at"].dt.to_period("M")
    new = (
        pd.DataFrame({"month": reg_month, "channel": customers["acquisition_channel"]})
        .value_counts()
        .rename("new")
    )
    cac = {"store": 18.0, "web": 32.0, "app": 26.0, "mini-program": 14.0}
    rows = []
    for m in months:
        for ch in CHANNELS:
            k = int(new.get((m, ch), 0))
            spend = k * cac[ch] * float(rng.lognormal(0.0, 0.15)) + float(rng.uniform(50, 150))
            rows.append((m.to_timestamp(), ch, round(spend, 2)))
    out = pd.DataFrame(rows, columns=["month", "channel", "spend"])
    out["month"] = out["month"].astype("datetime64[us]")
    return out


#: Relative browsing activity of the personas (in the order of :data:`PERSONAS`).
_BROWSING = np.array([1.5, 1.3, 0.8, 1.0, 0.6, 0.8, 1.2])


def _events(
    rng: np.random.Generator,
    ids: Any,
    persona: Any,
    reg: Any,
    life_end: Any,
    fav_cat: Any,
    order_cust: Any,
    order_ts: Any,
    order_product: Any,
    order_cat: Any,
    base: Any,
    span: int,
) -> Any:
    """Views, carts, favourites and searches: before a share of the purchases, and in
    sessions that end without a purchase (some of them in the last days of the period)."""
    import pandas as pd

    n = ids.size
    hour = np.int64(3600)
    parts: list[tuple[Any, Any, Any, Any, Any]] = []  # (customer, seconds, type, product, cat)
    t0 = base.astype("datetime64[s]")
    order_s = (order_ts - t0).astype(np.int64)

    # before a purchase: 1-3 views of the bought product in the 5 days before, sometimes a cart
    pre = np.flatnonzero(rng.random(order_cust.size) < 0.35)
    n_views = 1 + rng.poisson(0.8, pre.size)
    which = np.repeat(pre, n_views)
    when = order_s[which] - rng.integers(10 * 60, 5 * 24 * hour, which.size)
    parts.append((order_cust[which], when, "view", order_product[which], order_cat[which]))
    carted = pre[rng.random(pre.size) < 0.4]
    when = order_s[carted] - rng.integers(60, 2 * hour, carted.size)
    parts.append((order_cust[carted], when, "cart", order_product[carted], order_cat[carted]))

    # browsing sessions without a purchase; lapsing and churned customers keep browsing a while
    sessions = rng.poisson(1.2 * _BROWSING[persona])
    recent = rng.random(n) < 0.08  # one more session in the last 5 days of the period
    s_cust = np.r_[np.repeat(np.arange(n), sessions), np.flatnonzero(recent)]
    last_day = np.minimum(life_end + 60, span - 1)
    first_day = reg[s_cust]
    days = first_day + (rng.random(s_cust.size) * (last_day[s_cust] - first_day + 1)).astype(
        np.int64
    )
    n_recent = int(recent.sum())
    days[s_cust.size - n_recent :] = span - 1 - rng.integers(0, 5, n_recent)
    start = days * 24 * hour + rng.integers(8 * hour, 23 * hour, s_cust.size)
    s_cat = np.where(
        rng.random(s_cust.size) < 0.6,
        fav_cat[s_cust],
        rng.integers(0, len(CATEGORIES), s_cust.size),
    )
    s_product = s_cat * 1000 + rng.integers(0, 200, s_cust.size)
    searched = rng.random(s_cust.size) < 0.5
    parts.append((s_cust[searched], start[searched] - 60, "search", None, s_cat[searched]))
    k = 1 + rng.poisson(1.0, s_cust.size)
    which = np.repeat(np.arange(s_cust.size), k)
    when = start[which] + rng.integers(0, 30 * 60, which.size)
    parts.append((s_cust[which], when, "view", s_product[which], s_cat[which]))
    for kind, share in (("cart", 0.2), ("favourite", 0.2)):
        chosen = np.flatnonzero(rng.random(s_cust.size) < share)
        when = start[chosen] + 30 * 60 + rng.integers(0, 10 * 60, chosen.size)
        parts.append((s_cust[chosen], when, kind, s_product[chosen], s_cat[chosen]))

    customer = np.concatenate([p[0] for p in parts])
    seconds = np.concatenate([p[1] for p in parts])
    kinds = np.concatenate([np.full(p[0].size, p[2], dtype=object) for p in parts])
    product = np.concatenate(
        [np.full(p[0].size, -1) if p[3] is None else np.asarray(p[3]) for p in parts]
    )
    category = np.concatenate([np.asarray(p[4]) for p in parts])
    keep = (seconds >= 0) & (seconds < span * 24 * hour)
    out = pd.DataFrame(
        {
            "customer_id": ids[customer[keep]],
            "timestamp": (t0 + seconds[keep].astype("timedelta64[s]")).astype("datetime64[us]"),
            "event_type": kinds[keep],
            "product_id": pd.Series(product[keep], dtype="Int64").mask(product[keep] < 0),
            "category": np.asarray(CATEGORIES, dtype=object)[category[keep]],
        }
    )
    out = out.sort_values(["timestamp", "customer_id", "event_type"], kind="stable")
    return out.reset_index(drop=True)
