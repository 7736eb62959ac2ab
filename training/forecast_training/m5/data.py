"""Loads /work/shared/data/m5-daily (README.md there) into dense arrays, the calendar.json
document and per-series snapshots (docs/features-m5-daily.md, "Snapshot")."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .feature_spec import EVENT_NAMES, EVENT_TYPES, HORIZONS, LOOKBACK
from .features import Calendar, Dense, day_index

PAD = LOOKBACK + 28  # zero days kept before the first calendar day


@dataclass
class M5:
    ds: Dense
    ids: np.ndarray  # "store:item"
    items: np.ndarray
    calendar_doc: dict
    calendar: Calendar
    codes: dict
    last_sales_day: int


def calendar_doc(cal: pd.DataFrame) -> dict:
    states = ["CA", "TX", "WI"]
    days = []
    for r in cal.itertuples(index=False):
        ev = sorted({t for t in (r.event_type_1, r.event_type_2) if isinstance(t, str) and t})
        assert all(t in EVENT_TYPES for t in ev), ev
        names = [n for n in (r.event_name_1, r.event_name_2) if isinstance(n, str) and n]
        days.append({"day": day_index(r.date), "date": r.date, "events": ev, "names": names,
                     "snap": {s: int(getattr(r, f"snap_{s}")) for s in states}})
    return {"source": "M5 calendar.csv", "firstDay": days[0]["day"], "firstDate": days[0]["date"],
            "lastDate": days[-1]["date"], "eventTypes": EVENT_TYPES, "eventNames": EVENT_NAMES, "states": states,
            "days": days}


def make_codes(items: pd.DataFrame) -> dict:
    return {k: {v: i for i, v in enumerate(sorted(items[col].unique()))}
            for k, col in (("store", "store"), ("dept", "dept"), ("category", "category"), ("state", "state"))}


def load(data_dir: str | Path, codes: dict | None = None) -> M5:
    d = Path(data_dir)
    cal = pd.read_csv(d / "calendar.csv", dtype=str, keep_default_na=False)
    items = pd.read_csv(d / "items.csv", dtype=str, keep_default_na=False)
    sales = pd.read_csv(d / "sales.csv.gz", dtype={"store": str, "item": str, "date": str, "sales": np.float64})
    prices = pd.read_csv(d / "prices.csv.gz", dtype={"store": str, "item": str, "wm_yr_wk": np.int64,
                                                       "sell_price": np.float64})
    items = items.sort_values("id").reset_index(drop=True)
    ids = items["id"].to_numpy()
    row_of = {k: i for i, k in enumerate(ids)}
    cal_first = day_index(cal["date"].iloc[0])
    cal_last = day_index(cal["date"].iloc[-1])
    base = cal_first - PAD
    last_sales_day = day_index(sales["date"].max())
    N = len(ids)
    T = last_sales_day - base + 1
    sales_arr = np.zeros((N, T))
    r = (sales["store"] + ":" + sales["item"]).map(row_of).to_numpy()
    dd = pd.to_datetime(sales["date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    sales_arr[r, dd - base] = sales["sales"].to_numpy()
    # weekly price -> daily (week starts Saturday = its first calendar date), then forward fill
    wk_start = cal.groupby("wm_yr_wk")["date"].min().map(day_index)
    Tp = cal_last - base + 1
    weekly = np.full((N, Tp), np.nan)
    pr = (prices["store"] + ":" + prices["item"]).map(row_of).to_numpy()
    ws = prices["wm_yr_wk"].astype(str).map(wk_start).to_numpy().astype(np.int64)
    for k in range(7):
        ok = ws + k <= cal_last
        weekly[pr[ok], ws[ok] + k - base] = prices["sell_price"].to_numpy()[ok]
    price = pd.DataFrame(weekly.T).ffill().to_numpy().T  # price in force = last change
    first = np.array([Dense.NO_SALE if not f else day_index(f) for f in items["first_sale"]], dtype=np.int64)
    codes = codes or make_codes(items)
    ds = Dense(base, sales_arr, price, first, items["store"].to_numpy(), items["dept"].to_numpy(),
               items["category"].to_numpy(), items["state"].to_numpy())
    doc = calendar_doc(cal)
    return M5(ds, ids, items["item"].to_numpy(), doc, Calendar(doc), codes, last_sales_day)


def price_changes(ds: Dense, row: int, until_day: int) -> list[list]:
    """[fromDay, price] entries, ascending, one per change of the price in force, up to until_day."""
    p = ds.price[row, : until_day - ds.base + 1]
    out = []
    prev = np.nan
    for i, v in enumerate(p):
        if not np.isnan(v) and (np.isnan(prev) or v != prev):
            out.append([int(ds.base + i), float(v)])
        prev = v
    return out


def snapshot(m: M5, row: int, origin: int, *, compact_prices: bool = True) -> dict:
    """What the streaming processor holds for one series at `origin` (sales <= origin only)."""
    ds = m.ds
    o = int(origin)
    first = int(ds.first[row])
    lo = max(o - LOOKBACK + 1, first)
    sales = [[d, float(ds.sales[row, d - ds.base])] for d in range(lo, o + 1)] if first <= o else []
    prices = price_changes(ds, row, o + HORIZONS)
    if compact_prices:  # drop changes superseded before the lookback window
        keep = [i for i, (f, _) in enumerate(prices) if f > o - LOOKBACK]
        start = max(keep[0] - 1, 0) if keep else max(len(prices) - 1, 0)
        prices = prices[start:]
    store, item = m.ids[row].split(":")
    return {"seriesId": str(m.ids[row]), "store": store, "item": item, "dept": str(ds.dept[row]),
            "category": str(ds.category[row]), "region": str(ds.state[row]),
            "sales": sales, "firstSaleDay": first if first <= o else None, "prices": prices}


def origins(first: str, last_exclusive: str) -> list[int]:
    """Rolling origins: o = first, first+7, ... while o < last_exclusive."""
    o, end = day_index(first), day_index(last_exclusive)
    out = []
    while o < end:
        out.append(o)
        o += 7
    return out
