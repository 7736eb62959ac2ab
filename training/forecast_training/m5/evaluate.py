"""Rolling-protocol scoring on the M5 development window (README of the data):
origins 2013-06-30 + 7k while o < 2014-06-30, horizons 1..28, pairs with target in
[2013-07-01, 2014-06-30], series first sold by the origin."""
from __future__ import annotations

import numpy as np

from .data import M5, origins
from .feature_spec import FEATURE_COUNT, HORIZONS
from .features import day_index, features_dense

DEV_FROM, DEV_TO = "2013-07-01", "2014-06-30"


def dev_rows(m: M5, first: str = DEV_FROM, last: str = DEV_TO, every: int = 1):
    """Features and truth of every scored pair: X [n, F], actual, naive, promo flag, origin."""
    lo, hi = day_index(first), day_index(last)
    Xs, A, Nv, Pr, O = [], [], [], [], []
    for o in origins(str(np.datetime64(lo - 1, "D")), last)[::every]:
        rows = np.where(m.ds.first <= o)[0]
        X = features_dense(m.ds, rows, o, m.calendar, m.codes)
        t = o + np.arange(1, HORIZONS + 1)
        ok = (t >= lo) & (t <= hi)
        b = m.ds.base
        act = m.ds.sales[rows][:, t[ok] - b]
        d1 = t - 7 * ((np.arange(1, HORIZONS + 1) + 6) // 7)
        naive = m.ds.sales[rows][:, d1[ok] - b]
        P = m.ds.price[rows]
        pt = P[:, t[ok] - b]
        win = np.stack([np.nanmax(np.where(np.isnan(P[:, tt - 56 - b: tt - b]), -np.inf, P[:, tt - 56 - b: tt - b]),
                                  axis=1) for tt in t[ok]], axis=1)
        promo = ~np.isnan(pt) & np.isfinite(win) & (pt <= 0.9 * win + 1e-9)
        Xs.append(X[:, ok].reshape(-1, FEATURE_COUNT))
        A.append(act.reshape(-1)); Nv.append(naive.reshape(-1)); Pr.append(promo.reshape(-1))
        O.append(np.full(act.size, o))
    return np.concatenate(Xs), np.concatenate(A), np.concatenate(Nv), np.concatenate(Pr), np.concatenate(O)


def wape(a, p):
    return float(np.abs(a - p).sum() / a.sum())


def score(q: np.ndarray, actual, naive, promo) -> dict:
    """q [n, 3] p10/p50/p90 in units."""
    w, wn = wape(actual, q[:, 1]), wape(actual, naive)
    cov = float(np.mean((actual >= q[:, 0]) & (actual <= q[:, 2])))
    pm = promo
    return {"pairs": int(len(actual)), "wape": round(w, 4), "naiveWape": round(wn, 4), "ratio": round(w / wn, 4),
            "coverage": round(cov, 4), "promoPairs": int(pm.sum()), "promoShare": round(float(pm.mean()), 4),
            "promoWape": round(wape(actual[pm], q[pm, 1]), 4), "promoNaiveWape": round(wape(actual[pm], naive[pm]), 4),
            "promoRatio": round(wape(actual[pm], q[pm, 1]) / wape(actual[pm], naive[pm]), 4),
            "promoCoverage": round(float(np.mean((actual[pm] >= q[pm, 0]) & (actual[pm] <= q[pm, 2]))), 4)}


def evaluate_dev(m: M5, predict, every: int = 1) -> dict:
    X, a, nv, pr, _ = dev_rows(m, every=every)
    return score(predict(X), a, nv, pr)
