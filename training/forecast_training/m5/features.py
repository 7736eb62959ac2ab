"""M5 daily features (docs/features-m5-daily.md): the reference function on one snapshot,
and a vectorised path over dense arrays for training (tests/test_m5_features.py proves the
two identical). numpy only: the parity tests run with requirements-test.txt.

Everything is computed in float64 and cast to float32 at the end.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np

from .feature_spec import (EVENT_NAMES, EVENT_TYPES, EWM_ALPHAS_MILLI, FEATURE_COUNT, FEATURE_SPEC, HORIZONS, IDX, LAGS,
                           LOOKBACK, MEAN_WINDOWS, SAME_WEEKDAY_COUNTS)

S = FEATURE_SPEC
SCALE_FLOOR = S["scaleFloorMilli"] / 1000.0
EPOCH = dt.date(1970, 1, 1)


def day_index(d: dt.date | str) -> int:
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return (d - EPOCH).days


def date_of_day(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def weekday(day: int) -> int:
    return (int(day) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday


def days_to_xmas(day: int) -> int:
    """Signed days from the nearest Dec 25 (positive after it), clipped to +-xmasClip."""
    y = date_of_day(day).year
    best = min((day - day_index(dt.date(yy, 12, 25)) for yy in (y - 1, y, y + 1)), key=abs)
    return max(-S["xmasClip"], min(S["xmasClip"], best))


def ewm_decay(alpha_milli: int) -> float:
    return (1000 - alpha_milli) / 1000


def ewm_weights(alpha_milli: int, n: int) -> np.ndarray:
    """w_0 = 1, w_k = w_(k-1) * decay (the same float64 products as the reference loop)."""
    c, w, out = ewm_decay(alpha_milli), 1.0, np.empty(n)
    for k in range(n):
        out[k] = w
        w = w * c
    return out


class Calendar:
    """calendar.json as arrays: per day from first_day, event-type flags and SNAP per state."""

    def __init__(self, doc: dict):
        self.first_day = int(doc["firstDay"])
        self.states = list(doc["states"])
        days = doc["days"]
        self.n = len(days)
        self.events = np.zeros((self.n, len(EVENT_TYPES)), dtype=np.int8)
        self.snap = np.zeros((self.n, len(self.states)), dtype=np.int8)
        for i, rec in enumerate(days):
            assert rec["day"] == self.first_day + i
            for t in rec["events"]:
                self.events[i, EVENT_TYPES.index(t)] = 1
            for j, s in enumerate(self.states):
                self.snap[i, j] = rec["snap"][s]
        self.any_event = self.events.max(axis=1)
        # v2: code of the day's first event name (1 + index in EVENT_NAMES; 0 none or unknown)
        self.event_id = np.zeros(self.n, dtype=np.int16)
        for i, rec in enumerate(days):
            names = rec.get("names") or []
            if names and names[0] in EVENT_NAMES:
                self.event_id[i] = 1 + EVENT_NAMES.index(names[0])

    def event_code(self, day: int) -> int:
        i = day - self.first_day
        return int(self.event_id[i]) if 0 <= i < self.n else S["eventIdNone"]

    def event_flags(self, day: int) -> list[int]:
        i = day - self.first_day
        return [int(v) for v in self.events[i]] if 0 <= i < self.n else [0] * len(EVENT_TYPES)

    def snap_flag(self, day: int, state: str) -> int:
        i = day - self.first_day
        if not (0 <= i < self.n) or state not in self.states:
            return 0
        return int(self.snap[i, self.states.index(state)])

    def days_to_event(self, day: int) -> int:
        cap = S["daysToEventCap"]
        for k in range(cap):
            i = day + k - self.first_day
            if 0 <= i < self.n and self.any_event[i]:
                return k
        return cap


def _code(codes: dict, kind: str, value) -> int:
    return int(codes[kind].get(value, S["categoricalUnknown"]))


def features_from_snapshot(snap: dict, origin: int, calendar: Calendar, codes: dict) -> np.ndarray:
    """The reference feature function: one series' snapshot at `origin` -> float32 [28, F]."""
    o = int(origin)
    sales_map = {int(d): float(u) for d, u in snap["sales"] if o - LOOKBACK < int(d) <= o}

    def sales(d: int) -> float:
        return sales_map.get(d, 0.0)

    first = snap.get("firstSaleDay")
    age = 0 if first is None else min(max(o - int(first) + 1, 0), S["ageCap"])

    def eff(w: int) -> int:
        return max(1, min(w, age))

    def mean(w: int) -> float:
        return sum(sales(o - k) for k in range(w)) / eff(w)

    scale = max(mean(S["scaleWindow"]), SCALE_FLOOR)
    prices = [(int(f), float(p)) for f, p in snap["prices"]]

    def price(d: int):
        cur = None
        for f, p in prices:
            if f <= d:
                cur = p
            else:
                break
        return cur

    def max_price(lo: int, hi: int):  # max of the known prices in force on days lo..hi
        vals = [p for p in (price(d) for d in range(lo, hi + 1)) if p is not None]
        return max(vals) if vals else None

    base = [0.0] * FEATURE_COUNT
    base[IDX["scale"]] = scale
    for k in range(1, LAGS + 1):
        base[IDX[f"lag_{k}"]] = sales(o - k + 1) / scale
    for w in MEAN_WINDOWS:
        base[IDX[f"mean_{w}"]] = mean(w) / scale
    base[IDX["age"]] = age
    dss = S["daysSinceSaleCap"]
    for k in range(S["daysSinceSaleCap"]):
        if sales(o - k) > 0:
            dss = k
            break
    base[IDX["days_since_sale"]] = dss
    n28 = eff(28)
    base[IDX["zero_share_28"]] = sum(1 for k in range(n28) if sales(o - k) <= 0) / n28
    # v2 per-series features
    for a in EWM_ALPHAS_MILLI:
        c, w, num, den = ewm_decay(a), 1.0, 0.0, 0.0
        for k in range(max(1, min(LOOKBACK, age))):
            num += w * sales(o - k)
            den += w
            w = w * c
        base[IDX[f"ewm_{a // 10}"]] = num / den / scale
    rw = S["recentWindow"]
    sum_r = sum(sales(o - k) for k in range(rw))
    n_r = eff(rw)
    m_r = sum_r / n_r
    var = 0.0
    for k in range(n_r):
        dv = sales(o - k) - m_r
        var += dv * dv
    base[IDX["std_28"]] = math.sqrt(var / n_r) / scale
    base[IDX["max_28"]] = max(sales(o - k) for k in range(rw)) / scale
    base[IDX["nz_mean_28"]] = sum_r / max(1, sum(1 for k in range(rw) if sales(o - k) > 0)) / scale
    lb0, lb1 = S["lyBaseFrom"], S["lyBaseTo"]
    if first is None or o - lb1 < int(first):
        base[IDX["ly_base"]] = S["lyBaseMissing"]
    else:
        base[IDX["ly_base"]] = sum(sales(o - k) for k in range(lb0, lb1 + 1)) / (lb1 - lb0 + 1) / scale
    p_origin = price(o)
    p_ref = max_price(o - S["priceRefWindow"] + 1, o)
    base[IDX["store"]] = _code(codes, "store", snap["store"])
    base[IDX["dept"]] = _code(codes, "dept", snap["dept"])
    base[IDX["category"]] = _code(codes, "category", snap["category"])
    base[IDX["state"]] = _code(codes, "state", snap["region"])

    out = np.zeros((HORIZONS, FEATURE_COUNT), dtype=np.float64)
    miss = S["priceMissing"]
    for h in range(1, HORIZONS + 1):
        t = o + h
        row = list(base)
        row[IDX["horizon"]] = h
        row[IDX["weekday"]] = weekday(t)
        date = date_of_day(t)
        row[IDX["day_of_month"]] = date.day
        row[IDX["month"]] = date.month
        d1 = t - 7 * ((h + 6) // 7)  # the last day <= o with t's weekday
        row[IDX["seasonal_naive"]] = sales(d1) / scale
        for n in SAME_WEEKDAY_COUNTS:
            days = [d1 - 7 * j for j in range(n)]
            cnt = max(1, sum(1 for d in days if first is not None and d >= int(first)))
            row[IDX[f"same_weekday_{n}"]] = sum(sales(d) for d in days) / cnt / scale
        ly = t - S["lastYearOffset"]
        if first is None or ly < int(first):
            row[IDX["last_year_7"]] = S["lastYearMissing"]
        else:
            hw = S["lastYearHalfWidth"]
            row[IDX["last_year_7"]] = sum(sales(ly + k) for k in range(-hw, hw + 1)) / (2 * hw + 1) / scale
        p = price(t)
        if p is None:
            row[IDX["log_price"]] = S["logPriceMissing"]
            row[IDX["price_depth_56"]] = miss
            row[IDX["price_rel_origin"]] = miss
            row[IDX["price_rel_max_364"]] = miss
        else:
            row[IDX["log_price"]] = math.log(p)
            m56 = max_price(t - S["priceDepthWindow"], t - 1)
            row[IDX["price_depth_56"]] = miss if m56 is None else 1.0 - p / m56
            row[IDX["price_rel_origin"]] = miss if p_origin is None else p / p_origin
            row[IDX["price_rel_max_364"]] = miss if p_ref is None else p / p_ref
        for j, et in enumerate(EVENT_TYPES):
            row[IDX[f"event_{et.lower()}"]] = calendar.event_flags(t)[j]
        row[IDX["snap"]] = calendar.snap_flag(t, snap["region"])
        row[IDX["days_to_event"]] = calendar.days_to_event(t)
        row[IDX["event_id"]] = calendar.event_code(t)
        row[IDX["event_id_prev"]] = calendar.event_code(t - 1)
        row[IDX["event_id_next"]] = calendar.event_code(t + 1)
        row[IDX["days_to_xmas"]] = days_to_xmas(t)
        out[h - 1] = row
    return out.astype(np.float32)


# ---------------------------------------------------------------------------------------
# Vectorised path: all series at one origin, from dense arrays.


class Dense:
    """Dense per-series arrays over days base..base+T-1 (sales) / base..base+Tp-1 (prices).

    sales: float64 [N, T], zeros where no sale (and before the first sale);
    price: float64 [N, Tp], the price in force (NaN = unknown);
    first: int64 [N] first-sale day (or a huge number when none);
    store/dept/category/state: str arrays [N].
    """

    NO_SALE = 10**9

    def __init__(self, base, sales, price, first, store, dept, category, state):
        self.base, self.sales, self.price, self.first = int(base), sales, price, first
        self.store, self.dept, self.category, self.state = store, dept, category, state
        self.csum = np.concatenate([np.zeros((sales.shape[0], 1)), np.cumsum(sales, axis=1)], axis=1)
        pos = np.where(sales > 0, np.arange(sales.shape[1])[None, :], -(10**9))
        self.last_pos = np.maximum.accumulate(pos, axis=1)
        self.zcsum = np.concatenate([np.zeros((sales.shape[0], 1)), np.cumsum(sales <= 0, axis=1)], axis=1)


def _nanmax(a: np.ndarray, axis: int) -> np.ndarray:
    filled = np.where(np.isnan(a), -np.inf, a)
    m = filled.max(axis=axis)
    return np.where(np.isneginf(m), np.nan, m)


def features_dense(ds: Dense, rows: np.ndarray, origin: int, calendar: Calendar, codes: dict) -> np.ndarray:
    """Features of series `rows` at one origin -> float32 [len(rows), 28, F]; identical to
    features_from_snapshot on each row's snapshot."""
    o = int(origin)
    oi = o - ds.base  # sales index of the origin
    assert oi - LOOKBACK - 8 >= 0, "dense arrays must start >= lookback before the origin"
    n = len(rows)
    sales = ds.sales[rows]
    csum = ds.csum[rows]
    first = ds.first[rows]
    H = HORIZONS
    has_first = first < Dense.NO_SALE
    age = np.where(has_first, np.clip(o - first + 1, 0, S["ageCap"]), 0).astype(np.float64)

    def eff(w):
        return np.maximum(1.0, np.minimum(w, age))

    def wsum(w):  # sum of sales on days o-w+1..o
        return csum[:, oi + 1] - csum[:, oi + 1 - w]

    def mean(w):
        return wsum(w) / eff(w)

    scale = np.maximum(mean(S["scaleWindow"]), SCALE_FLOOR)
    X = np.zeros((n, H, FEATURE_COUNT), dtype=np.float64)

    def put(name, v):
        X[:, :, IDX[name]] = v if np.ndim(v) == 2 else (np.asarray(v)[:, None] if np.ndim(v) == 1 else v)

    put("scale", scale)
    for k in range(1, LAGS + 1):
        put(f"lag_{k}", sales[:, oi - k + 1] / scale)
    for w in MEAN_WINDOWS:
        put(f"mean_{w}", mean(w) / scale)
    put("age", age)
    lp = ds.last_pos[rows, oi]
    put("days_since_sale", np.minimum(oi - lp, S["daysSinceSaleCap"]).astype(np.float64))
    n28 = eff(28).astype(np.int64)
    zc = ds.zcsum[rows]
    zeros = zc[np.arange(n), oi + 1] - zc[np.arange(n), oi + 1 - n28]
    put("zero_share_28", zeros / n28)
    # v2 per-series features (sequential sums via cumsum, in the reference's order)
    B = sales[:, oi - LOOKBACK + 1: oi + 1][:, ::-1]  # B[:, k] = S(o - k)
    ar = np.arange(n)
    nl = np.maximum(1, np.minimum(LOOKBACK, age)).astype(np.int64)
    for a in EWM_ALPHAS_MILLI:
        w = ewm_weights(a, LOOKBACK)
        num = np.cumsum(B * w[None, :], axis=1)[ar, nl - 1]
        den = np.cumsum(w)[nl - 1]
        put(f"ewm_{a // 10}", num / den / scale)
    rw = S["recentWindow"]
    R = B[:, :rw]
    sum_r = wsum(rw)
    n_r = eff(rw).astype(np.int64)
    m_r = sum_r / n_r
    dv = R - m_r[:, None]
    var = np.cumsum(dv * dv, axis=1)[ar, n_r - 1]
    put("std_28", np.sqrt(var / n_r) / scale)
    put("max_28", R.max(axis=1) / scale)
    put("nz_mean_28", sum_r / np.maximum(1, (R > 0).sum(axis=1)) / scale)
    lb0, lb1 = S["lyBaseFrom"], S["lyBaseTo"]
    lyb = (csum[:, oi - lb0 + 1] - csum[:, oi - lb1]) / (lb1 - lb0 + 1) / scale
    put("ly_base", np.where(has_first & (o - lb1 >= first), lyb, S["lyBaseMissing"]))
    for kind, arr in (("store", ds.store), ("dept", ds.dept), ("category", ds.category), ("state", ds.state)):
        put(kind, np.array([codes[kind].get(v, S["categoricalUnknown"]) for v in arr[rows]], dtype=np.float64))

    h = np.arange(1, H + 1)
    t = o + h
    put("horizon", np.broadcast_to(h[None, :], (n, H)))
    put("weekday", np.broadcast_to(((t + 3) % 7)[None, :], (n, H)))
    dates = [date_of_day(x) for x in t]
    put("day_of_month", np.broadcast_to(np.array([d.day for d in dates])[None, :], (n, H)))
    put("month", np.broadcast_to(np.array([d.month for d in dates])[None, :], (n, H)))
    d1 = t - 7 * ((h + 6) // 7)
    put("seasonal_naive", sales[:, d1 - ds.base] / scale[:, None])
    for cnt in SAME_WEEKDAY_COUNTS:
        days = d1[:, None] - 7 * np.arange(cnt)[None, :]  # [H, cnt]
        vals = sales[:, days - ds.base]  # [n, H, cnt]
        c = np.maximum(1, (days[None, :, :] >= first[:, None, None]).sum(axis=2))
        put(f"same_weekday_{cnt}", vals.sum(axis=2) / c / scale[:, None])
    ly = t - S["lastYearOffset"]
    hw = S["lastYearHalfWidth"]
    lysum = csum[:, ly + hw + 1 - ds.base] - csum[:, ly - hw - ds.base]
    lyv = lysum / (2 * hw + 1) / scale[:, None]
    put("last_year_7", np.where(ly[None, :] < first[:, None], S["lastYearMissing"], lyv))

    # prices (index into ds.price, same base)
    P = ds.price[rows]
    miss = S["priceMissing"]
    pt = P[:, t - ds.base]  # [n, H]
    dw = S["priceDepthWindow"]
    win = P[:, o + 1 - dw - ds.base: o + H - ds.base]  # days o+1-dw .. o+H-1
    sw = np.lib.stride_tricks.sliding_window_view(win, dw, axis=1)  # [n, H, dw]: window for t = days t-dw..t-1
    m56 = _nanmax(sw, axis=2)
    p_origin = P[:, oi]
    rw = S["priceRefWindow"]
    p_ref = _nanmax(P[:, oi - rw + 1: oi + 1], axis=1)
    known = ~np.isnan(pt)
    with np.errstate(invalid="ignore", divide="ignore"):
        put("log_price", np.where(known, np.log(np.where(known, pt, 1.0)), S["logPriceMissing"]))
        put("price_depth_56", np.where(known & ~np.isnan(m56), 1.0 - pt / m56, miss))
        put("price_rel_origin", np.where(known & ~np.isnan(p_origin)[:, None], pt / p_origin[:, None], miss))
        put("price_rel_max_364", np.where(known & ~np.isnan(p_ref)[:, None], pt / p_ref[:, None], miss))

    for j, et in enumerate(EVENT_TYPES):
        put(f"event_{et.lower()}", np.broadcast_to(np.array([calendar.event_flags(x)[j] for x in t])[None, :], (n, H)))
    st = ds.state[rows]
    snapv = np.array([[calendar.snap_flag(x, s) for x in t] for s in calendar.states + ["?"]], dtype=np.float64)
    sidx = np.array([calendar.states.index(s) if s in calendar.states else len(calendar.states) for s in st])
    put("snap", snapv[sidx])
    put("days_to_event", np.broadcast_to(np.array([calendar.days_to_event(x) for x in t])[None, :], (n, H)))
    for name, off in (("event_id", 0), ("event_id_prev", -1), ("event_id_next", 1)):
        put(name, np.broadcast_to(np.array([calendar.event_code(x + off) for x in t], dtype=np.float64)[None, :], (n, H)))
    put("days_to_xmas", np.broadcast_to(np.array([days_to_xmas(x) for x in t], dtype=np.float64)[None, :], (n, H)))
    return X.astype(np.float32)


def dense_from_snapshot(snap: dict, origin: int, calendar: Calendar) -> tuple[Dense, np.ndarray]:
    """One snapshot as a Dense of one row (for checking the vectorised path on the vectors)."""
    o = int(origin)
    base = o - LOOKBACK - 10
    T = o - base + 1
    Tp = o + HORIZONS - base + 1
    sales = np.zeros((1, T))
    for d, u in snap["sales"]:
        if o - LOOKBACK < int(d) <= o:
            sales[0, int(d) - base] = float(u)
    price = np.full((1, Tp), np.nan)
    for f, p in snap["prices"]:
        i = max(int(f) - base, 0)
        if i < Tp:
            price[0, i:] = float(p)
    first = np.array([Dense.NO_SALE if snap.get("firstSaleDay") is None else int(snap["firstSaleDay"])])
    ds = Dense(base, sales, price, first, np.array([snap["store"]]), np.array([snap["dept"]]),
               np.array([snap["category"]]), np.array([snap["region"]]))
    return ds, np.array([0])
