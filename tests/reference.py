"""An independent, deliberately plain pandas computation of the feature table.

Written from the definitions in the docs, not from retailcrm's code, so the two can disagree.
Only the columns that do not need category/channel data are computed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def reference_features(
    tx: pd.DataFrame, as_of: dt.date, windows: tuple[int, ...] = (30, 90, 180, 365)
) -> pd.DataFrame:
    df = tx.copy()
    df["date"] = pd.to_datetime(df["timestamp"]).dt.normalize()
    as_of_ts = pd.Timestamp(as_of)
    df = df[df["date"] <= as_of_ts]
    keys = ["customer_id", "order_id"] if "order_id" in df.columns else ["customer_id", "date"]
    occ = df.groupby(keys, as_index=False).agg(first=("date", "min"), net=("amount", "sum"))
    occ["buy"] = occ["net"] > 0
    rows = []
    for cust, g in occ.groupby("customer_id", sort=True):
        buys = g[g["buy"]]
        first = buys["first"].min() if len(buys) else pd.NaT
        last = buys["first"].max() if len(buys) else pd.NaT
        freq = len(buys)
        row = {
            "customer_id": cust,
            "first_purchase": first,
            "last_purchase": last,
            "recency_days": (as_of_ts - last).days if freq else np.nan,
            "frequency": freq,
            "monetary": g["net"].sum(),
            "avg_order_value": g["net"].sum() / freq if freq else np.nan,
            "tenure_days": (as_of_ts - first).days if freq else np.nan,
            "mean_interpurchase_days": (last - first).days / (freq - 1) if freq > 1 else np.nan,
        }
        for w in windows:
            inside = g["first"] > as_of_ts - pd.Timedelta(days=w)
            row[f"orders_{w}d"] = int((inside & g["buy"]).sum())
            row[f"spend_{w}d"] = g.loc[inside, "net"].sum()
        months = {(d.year, d.month) for d in buys["first"]}
        row["active_months_12"] = sum(
            (
                (as_of.year * 12 + as_of.month - 1 - k) // 12,
                (as_of.year * 12 + as_of.month - 1 - k) % 12 + 1,
            )
            in months
            for k in range(12)
        )
        run, y, m = 0, as_of.year, as_of.month
        while (y, m) in months:
            run += 1
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        row["consecutive_active_months"] = run
        rows.append(row)
    return pd.DataFrame(rows)
