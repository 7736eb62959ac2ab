"""Study v3 of the M5 daily model (bench/results/m5-daily-study.md): candidate extra features
(event names, per-series extras, cross-series aggregates) and recipe variants, each a p50 fit
on the honest rows (targets <= --train-until), scored on the dev window with the Python scorer
(p50 x the recipe's fixed promotion uplift; ratio to seasonal naive, promotion-day ratio).

  python -m forecast_training.m5.study_v3 --data DIR --out DIR [--variants a,b] [--procs 4 --threads 4]

Fits run in parallel worker processes (fork; the row matrices are shared copy-on-write).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .data import load
from .evaluate import dev_rows, wape
from .feature_spec import FEATURE_NAMES, HORIZONS, IDX, PRICE_FEATURES
from .features import day_index, features_dense
from .train import FIRST_TRAIN_ORIGIN, RECIPE, listed_days, promo_depth, promo_like, uplift_of

LB = 400


class Ctx:
    """Calendar event-name codes and group sums of the sales (for the aggregate features)."""

    def __init__(self, m, data_dir):
        cal = pd.read_csv(Path(data_dir) / "calendar.csv", dtype=str, keep_default_na=False)
        names = sorted({v for c in ("event_name_1", "event_name_2") for v in cal[c] if v})
        self.event_names = names
        code = {n: i for i, n in enumerate(names)}
        self.first_day = m.calendar.first_day
        self.ev = np.array([code.get(v, -1) for v in cal["event_name_1"]], dtype=np.float64)
        ds = m.ds
        self.groups = {}
        for g, keys in (("sd", np.char.add(np.char.add(ds.store.astype(str), "|"), ds.dept.astype(str))),
                        ("st", ds.store.astype(str)), ("it", np.array([i.split(":")[1] for i in m.ids])),
                        ("dp", ds.dept.astype(str))):
            u, inv = np.unique(keys, return_inverse=True)
            G = np.zeros((len(u), ds.sales.shape[1]))
            np.add.at(G, inv, ds.sales)
            self.groups[g] = (inv, np.concatenate([np.zeros((len(u), 1)), np.cumsum(G, axis=1)], axis=1), G)


def _ev_at(ctx, days):
    i = days - ctx.first_day
    ok = (i >= 0) & (i < len(ctx.ev))
    return np.where(ok, ctx.ev[np.clip(i, 0, len(ctx.ev) - 1)], -1.0)


EXTRA_NAMES = (["event_id", "event_id_prev", "event_id_next", "days_to_xmas"]
               + ["ewm_10", "ewm_30", "std_28", "max_28", "nz_mean_28", "ly_base"]
               + [f"{g}_{f}" for g in ("sd", "st", "it", "dp") for f in ("m7", "m28_112", "lag1", "sw4", "ly")])
EIDX = {n: i for i, n in enumerate(EXTRA_NAMES)}


def extras(m, ctx, rows, o) -> np.ndarray:
    ds = m.ds
    oi = o - ds.base
    H = HORIZONS
    h = np.arange(1, H + 1)
    t = o + h
    n = len(rows)
    E = np.zeros((n, H, len(EXTRA_NAMES)))

    def put(name, v):
        E[:, :, EIDX[name]] = v if np.ndim(v) == 2 else np.asarray(v)[:, None]

    put("event_id", np.broadcast_to(_ev_at(ctx, t)[None], (n, H)))
    put("event_id_prev", np.broadcast_to(_ev_at(ctx, t - 1)[None], (n, H)))
    put("event_id_next", np.broadcast_to(_ev_at(ctx, t + 1)[None], (n, H)))
    # signed days from the nearest Dec 25 (clipped to +-14)
    xd = []
    for x in t:
        d = np.datetime64(int(x), "D").astype(object)
        best = min((abs((d - d.replace(month=12, day=25, year=y)).days), (d - d.replace(month=12, day=25, year=y)).days)
                   for y in (d.year - 1, d.year, d.year + 1))[1]
        xd.append(float(np.clip(best, -14, 14)))
    put("days_to_xmas", np.broadcast_to(np.array(xd)[None], (n, H)))

    S = ds.sales[rows][:, oi - LB + 1: oi + 1][:, ::-1]  # S[:, k] = sales(o - k), k < 400
    first = ds.first[rows]
    age = np.where(first < 10**9, np.clip(o - first + 1, 0, LB), 0)
    scale = np.maximum(S[:, :56].sum(1) / np.maximum(1, np.minimum(56, age)), 0.1)
    k = np.arange(LB)
    nk = np.maximum(1, np.minimum(LB, age))
    live = k[None, :] < nk[:, None]
    for a, nm in ((0.1, "ewm_10"), (0.3, "ewm_30")):
        w = (1 - a) ** k
        put(nm, (S * w * live).sum(1) / (w[None] * live).sum(1) / scale)
    n28 = np.maximum(1, np.minimum(28, age))
    l28 = k[None, :28] < n28[:, None]
    m28 = (S[:, :28]).sum(1) / n28
    put("std_28", np.sqrt((((S[:, :28] - m28[:, None]) ** 2) * l28).sum(1) / n28) / scale)
    put("max_28", S[:, :28].max(1) / scale)
    put("nz_mean_28", S[:, :28].sum(1) / np.maximum(1, (S[:, :28] > 0).sum(1)) / scale)
    lyb = S[:, 364:392].sum(1) / 28 / scale
    put("ly_base", np.where(o - 391 < first, -1.0, lyb))

    d1 = t - 7 * ((h + 6) // 7)
    for g, (inv, cs, G) in ctx.groups.items():
        gi = inv[rows]
        C = cs[gi]  # [n, T+1]

        def gsum(a, b):  # sum over days a..b (inclusive), day indices relative to base
            return C[:, b + 1] - C[:, a]

        mn7 = gsum(oi - 6, oi) / 7
        mn28 = gsum(oi - 27, oi) / 28
        mn112 = gsum(oi - 111, oi) / 112
        den = np.where(mn28 > 0, mn28, np.nan)
        put(f"{g}_m7", np.nan_to_num(mn7 / den, nan=1.0))
        put(f"{g}_m28_112", np.nan_to_num(mn28 / np.where(mn112 > 0, mn112, np.nan), nan=1.0))
        put(f"{g}_lag1", np.nan_to_num(G[gi, oi] / den, nan=1.0))
        sw = sum(G[gi][:, d1 - ds.base - 7 * j] for j in range(4)) / 4  # [n, H]
        put(f"{g}_sw4", np.nan_to_num(sw / den[:, None], nan=1.0))
        lyb_g = gsum(oi - 391, oi - 364) / 28
        ly = t - 364
        lyv = (C[:, ly + 3 + 1 - ds.base] - C[:, ly - 3 - ds.base]) / 7
        put(f"{g}_ly", np.nan_to_num(lyv / np.where(lyb_g > 0, lyb_g, np.nan)[:, None], nan=1.0))
    return E.astype(np.float32)


def build(m, ctx, origins, until, share, seed, listed=None):
    rng = np.random.default_rng(seed)
    Xs, Es, ys, os_ = [], [], [], []
    for o in origins:
        rows = np.where(m.ds.first <= o)[0]
        if share < 1:
            rows = rows[rng.random(len(rows)) < share]
        hmax = min(HORIZONS, until - o)
        if len(rows) == 0 or hmax <= 0:
            continue
        X = features_dense(m.ds, rows, o, m.calendar, m.codes)[:, :hmax]
        E = extras(m, ctx, rows, o)[:, :hmax]
        y = m.ds.sales[rows][:, o + 1 - m.ds.base: o + hmax + 1 - m.ds.base]
        Xs.append(X.reshape(-1, X.shape[-1])); Es.append(E.reshape(-1, E.shape[-1])); ys.append(y.reshape(-1))
        os_.append(np.full(y.size, o, np.int32))
    n_ord = sum(len(y) for y in ys)
    if listed is not None:  # launch rows as in train.build_launch_rows, label = mean of the 28 days
        fd = m.calendar.first_day
        r_all = np.where((listed > fd) & (listed + HORIZONS - 1 <= until) & (m.ds.first >= listed))[0]
        for o in np.unique(listed[r_all] - 1):
            r = r_all[listed[r_all] - 1 == o]
            X = features_dense(m.ds, r, int(o), m.calendar, m.codes)
            E = extras(m, ctx, r, int(o))
            y = m.ds.sales[r][:, o + 1 - m.ds.base: o + HORIZONS + 1 - m.ds.base]
            y = np.repeat(y.mean(axis=1), HORIZONS)
            Xs.append(X.reshape(-1, X.shape[-1])); Es.append(E.reshape(-1, E.shape[-1])); ys.append(y)
            os_.append(np.full(y.size, o, np.int32))
    X = np.concatenate([np.concatenate(Xs), np.concatenate(Es)], axis=1)
    return X, np.concatenate(ys), np.concatenate(os_), n_ord


ALL_NAMES = FEATURE_NAMES + EXTRA_NAMES
BASE = [n for n in FEATURE_NAMES if n not in PRICE_FEATURES]
CAL = ["event_id", "event_id_prev", "event_id_next", "days_to_xmas"]
SER = ["ewm_10", "ewm_30", "std_28", "max_28", "nz_mean_28", "ly_base"]
AGG = {g: [f"{g}_{f}" for f in ("m7", "m28_112", "lag1", "sw4", "ly")] for g in ("sd", "st", "it", "dp")}
CATS = ["store", "dept", "category", "state", "event_id", "event_id_prev", "event_id_next"]

P50 = {"objective": "quantile", "alpha": 0.5, "learning_rate": 0.15, "num_leaves": 63, "min_data_in_leaf": 500,
       "feature_fraction": 0.6, "bagging_fraction": 0.7, "bagging_freq": 1, "lambda_l2": 1.0, "max_bin": 63,
       "verbose": -1, "seed": 7}

VARIANTS = {
    "base": dict(cols=BASE),
    "cal": dict(cols=BASE + CAL),
    "ser": dict(cols=BASE + SER),
    "sd": dict(cols=BASE + AGG["sd"]),
    "it": dict(cols=BASE + AGG["it"]),
    "st_dp": dict(cols=BASE + AGG["st"] + AGG["dp"]),
    "cal_ser": dict(cols=BASE + CAL + SER),
    "all": dict(cols=BASE + CAL + SER + AGG["sd"] + AGG["it"] + AGG["st"] + AGG["dp"]),
    "cal_ser_big": dict(cols=BASE + CAL + SER, rounds=200, num_leaves=127, learning_rate=0.1),
    "all_big": dict(cols=BASE + CAL + SER + AGG["sd"] + AGG["it"] + AGG["st"] + AGG["dp"], rounds=200,
                    num_leaves=127, learning_rate=0.1),
    "cal_ser_full": dict(cols=BASE + CAL + SER, rows="full"),
    "cs_full_s8": dict(cols=BASE + CAL + SER, rows="full", seed=8),
    "cs_full_big": dict(cols=BASE + CAL + SER, rows="full", rounds=200, num_leaves=127, learning_rate=0.1),
    "cs_full_150": dict(cols=BASE + CAL + SER, rows="full", rounds=150, num_leaves=95, learning_rate=0.12),
    "cs_full_md200": dict(cols=BASE + CAL + SER, rows="full", min_data_in_leaf=200, feature_fraction=0.8),
    "cs_wd": dict(cols=BASE + CAL + SER, rows="wd"),
    "all_full": dict(cols=BASE + CAL + SER + AGG["sd"] + AGG["it"] + AGG["st"] + AGG["dp"], rows="full"),
}

G = {}  # filled before the pool forks


def fit_score(name):
    import lightgbm as lgb
    v = VARIANTS[name]
    X, y, nlaunch_mask = G[v.get("rows", "std")]
    cols = [ALL_NAMES.index(c) for c in v["cols"]]
    names = v["cols"]
    params = {**P50, "num_threads": G["threads"], **{k: v[k] for k in ("num_leaves", "learning_rate", "min_data_in_leaf",
                                                                         "feature_fraction", "seed") if k in v}}
    scale = X[:, IDX["scale"]].astype(np.float64)
    w = scale * np.where(promo_like(X), RECIPE["promoWeight"], 1.0) * np.where(nlaunch_mask, 1.0, RECIPE["launchWeight"])
    t0 = time.time()
    ds = lgb.Dataset(X[:, cols], label=y / scale, weight=w, feature_name=names,
                     categorical_feature=[c for c in CATS if c in names], free_raw_data=False)
    b = lgb.train(params, ds, num_boost_round=v.get("rounds", 100))
    fit_s = time.time() - t0
    Xd, a, nv, pr = G["dev"]
    p50n = b.predict(Xd[:, cols], num_threads=G["threads"])
    sc = Xd[:, IDX["scale"]].astype(np.float64)
    U = uplift_of(Xd, RECIPE, RECIPE["upliftFixed"])
    p = np.maximum(p50n * sc * U, 0)
    p0 = np.maximum(p50n * sc, 0)
    wn, wnp = wape(a, nv), wape(a[pr], nv[pr])
    res = {"variant": name, "features": len(cols), "trees": b.num_trees(), "fit_s": round(fit_s, 1),
           "ratio": round(wape(a, p) / wn, 4), "wape": round(wape(a, p), 4), "promoRatio": round(wape(a[pr], p[pr]) / wnp, 4),
           "promoWape": round(wape(a[pr], p[pr]), 4), "ratioNoUplift": round(wape(a, p0) / wn, 4),
           "promoWapeNoUplift": round(wape(a[pr], p0[pr]), 4)}
    out = Path(G["out"])
    if name in G["save_preds"]:
        np.save(out / f"p50n_{name}.npy", p50n.astype(np.float32))
    gain = b.feature_importance("gain")
    res["topGain"] = [(names[i], round(float(gain[i] / gain.sum()), 3)) for i in np.argsort(-gain)[:12]]
    b.save_model(str(out / f"booster_{name}.txt")) if name in G["save_boosters"] else None
    with open(out / "results.jsonl", "a") as f:
        f.write(json.dumps(res) + "\n")
    print(json.dumps(res), flush=True)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--train-until", default="2013-06-30")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--share", type=float, default=RECIPE["sampleShare"])
    ap.add_argument("--dev-every", type=int, default=1)
    ap.add_argument("--save-preds", default="")
    ap.add_argument("--save-boosters", default="")
    a = ap.parse_args(argv)
    t0 = time.time()
    m = load(a.data)
    ctx = Ctx(m, a.data)
    until = day_index(a.train_until)
    origins = list(range(day_index(FIRST_TRAIN_ORIGIN), until, 7))
    listed = listed_days(a.data)
    variants = a.variants.split(",")
    X, y, org, n_ord = build(m, ctx, origins, until, a.share, 1, listed)
    G["std"] = (X, y, np.arange(len(y)) < n_ord)
    print(f"rows {len(y):,} ({n_ord:,} ordinary) {time.time() - t0:.0f}s", flush=True)
    if any(VARIANTS[v].get("rows") == "full" for v in variants):
        Xf, yf, _, nf = build(m, ctx, origins, until, 1.0, 1, listed)
        G["full"] = (Xf, yf, np.arange(len(yf)) < nf)
        print(f"full rows {len(yf):,} {time.time() - t0:.0f}s", flush=True)
    if any(VARIANTS[v].get("rows") == "wd" for v in variants):  # every weekday's origins, share 0.15
        wd_origins = list(range(day_index(FIRST_TRAIN_ORIGIN) - 6, until, 1))
        Xw, yw, _, nw = build(m, ctx, wd_origins, until, 0.15, 1, listed)
        G["wd"] = (Xw, yw, np.arange(len(yw)) < nw)
        print(f"weekday rows {len(yw):,} {time.time() - t0:.0f}s", flush=True)
    Xd, ad, nvd, prd, od = dev_rows(m, every=a.dev_every)
    # the same pairs' extras (dev_rows orders by origin, rows = first <= o, horizons in window)
    lo, hi = day_index("2013-07-01"), day_index("2014-06-30")
    Es = []
    for o in np.unique(od):
        rows = np.where(m.ds.first <= o)[0]
        t = o + np.arange(1, HORIZONS + 1)
        ok = (t >= lo) & (t <= hi)
        Es.append(extras(m, ctx, rows, int(o))[:, ok].reshape(-1, len(EXTRA_NAMES)))
    Xd = np.concatenate([Xd, np.concatenate(Es)], axis=1)
    G["dev"] = (Xd, ad, nvd, prd)
    G.update(threads=a.threads, out=a.out, save_preds=a.save_preds.split(","), save_boosters=a.save_boosters.split(","))
    Path(a.out).mkdir(parents=True, exist_ok=True)
    print(f"dev pairs {len(ad):,} promo {int(prd.sum()):,} naive {wape(ad, nvd):.4f} ({time.time() - t0:.0f}s)",
          flush=True)
    import multiprocessing as mp
    with mp.get_context("fork").Pool(a.procs) as pool:
        res = pool.map(fit_score, variants, chunksize=1)
    print(f"{'variant':14s} {'F':>3s} {'ratio':>7s} {'promo':>7s} {'noUp':>7s} {'fit_s':>6s}")
    for r in res:
        print(f"{r['variant']:14s} {r['features']:3d} {r['ratio']:7.4f} {r['promoRatio']:7.4f} {r['ratioNoUplift']:7.4f} "
              f"{r['fit_s']:6.0f}")
    print(f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
