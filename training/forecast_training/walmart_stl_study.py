"""Model selection for walmart-stl (bench/results/walmart-stl-study.md).

Every variant is scored twice with the numpy twin of `evaluate`: trained on weeks <= 2011-04-29 and
scored on the validation window 2011-05-06 .. 2011-10-28 (choices are made here), and trained on
weeks <= 2011-10-28 and scored on the development window 2011-11-04 .. 2012-04-27 (reported).

Usage: python -m forecast_training.walmart_stl_study --out FILE.json [--gbm] [--mstl]
  --gbm   also the walmart-gbm median as the ONNX part (fits its 500-round booster: minutes)
  --mstl  also the peers' MSTL(52) + AutoETS('ZZN') from statsforecast (not in the requirements:
          pip install statsforecast; ~25 min per window on one core)
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from . import stl_ses
from . import walmart_stl as S
from .train import week_of
from .walmart import load_walmart, truncate_sales

CUTS = {"val": ("2011-04-29", "2011-05-06", "2011-10-28"), "dev": ("2011-10-28", "2011-11-04", "2012-04-27")}


def log(m):
    print(f"[{time.strftime('%H:%M:%S')}] {m}", file=sys.stderr, flush=True)


def stat_variant(data, win, mode: str) -> np.ndarray:
    """The stl-ses forecast with another seasonal step: none = season[T-52]; delta = the calendar
    alignment that ships; fwd = 6/7 [T-52] + 1/7 [T-51]; sym = 5/7 [T-52] + 1/7 [T-51] + 1/7 [T-53];
    two = 5/7 [T-52] + 2/7 [T-53] (the last three are smoothing controls, not calendar rules)."""
    if mode == "delta":
        return win["stat"]
    fb = data.dense.first_bucket
    rows, origins = win["rows"], win["origin"] - fb
    first = S.first_rows(data)
    start = np.maximum(first[rows], origins - stl_ses.LOOKBACK + 1)
    n = origins - start + 1
    out = np.full((len(rows), 4), np.nan)
    for length in np.unique(n):
        if length < stl_ses.MIN_HISTORY:
            continue
        sel = np.flatnonzero(n == length)
        y = data.dense.sales[rows[sel, None], start[sel, None] + np.arange(length)[None, :]]
        season = stl_ses.stl(y.T)[0].T
        best, lev = np.full(len(sel), np.inf), np.zeros(len(sel))
        for a in stl_ses.ALPHAS:
            l, sse = stl_ses.ses_level(y - season, a)
            b = sse < best
            best, lev = np.where(b, sse, best), np.where(b, l, lev)
        for h in range(1, 5):
            s51, s52, s53 = (season[:, length - k + h - 1] for k in (51, 52, 53))
            seas = {"none": s52, "fwd": 6 / 7 * s52 + 1 / 7 * s51, "sym": 5 / 7 * s52 + (s51 + s53) / 7,
                    "two": 5 / 7 * s52 + 2 / 7 * s53}[mode]
            out[sel, h - 1] = lev + seas
    return out


def mstl_peer(data, win) -> np.ndarray:
    """statsforecast MSTL(season_length=52, trend_forecaster=AutoETS('ZZN')) refitted at every origin on
    each series' sales from its first row (series with < 20 weeks: none), p50 [n, 4]."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS

    fb = data.dense.first_bucket
    first = S.first_rows(data)
    out = np.full((len(win["rows"]), 4), np.nan)
    for o in np.unique(win["origin"]):
        ob = o - fb
        pick = np.flatnonzero(win["origin"] == o)
        ids, ds, ys = [], [], []
        for k in pick:
            i = win["rows"][k]
            if first[i] > ob or ob - first[i] + 1 < 20:
                continue
            y = data.dense.sales[i, first[i]:ob + 1]
            ids.append(np.full(len(y), k)); ds.append(np.arange(len(y))); ys.append(y)
        df = pd.DataFrame({"unique_id": np.concatenate(ids), "ds": np.concatenate(ds), "y": np.concatenate(ys)})
        f = StatsForecast(models=[MSTL(season_length=52, trend_forecaster=AutoETS(model="ZZN"))], freq=1, n_jobs=1) \
            .forecast(df=df, h=4).sort_values(["unique_id", "ds"])
        out[f["unique_id"].to_numpy().reshape(-1, 4)[:, 0].astype(int)] = f["MSTL"].to_numpy().reshape(-1, 4)
        log(f"mstl origin {o}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(S.ROOT.parent / "shared/data/walmart2014"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--gbm", action="store_true")
    ap.add_argument("--mstl", action="store_true")
    args = ap.parse_args()
    full = load_walmart(args.data)
    res = {}
    for name, (cut, a, b) in CUTS.items():
        data = load_walmart(args.data)
        truncate_sales(data, week_of(cut))
        mlp, _, _ = S.train_mlp(data, week_of(cut))
        win = S.window(full, week_of(a), week_of(b))
        q = S.onnx_twin(mlp, win)  # v3 median, network widths (k = 1)
        r = {"v3 (ONNX part alone)": S.score(win, q)}
        k_lo, k_hi, _ = S.calibrate(data, week_of(cut))
        stats = {m: stat_variant(full, win, m) for m in ("none", "delta", "fwd", "sym", "two")}
        for m, st in stats.items():
            r[f"stat alone, seasonal step {m}"] = S.score(win, S.blend(q, st, 1.0, 1.0, w=1.0))
            r[f"0.5 v3 + 0.5 stat, seasonal step {m}"] = S.score(win, S.blend(q, st, k_lo, k_hi))
        for w in (0.3, 0.4, 0.6, 0.7):
            r[f"{1 - w:.1f} v3 + {w:.1f} stat (delta)"] = S.score(win, S.blend(q, stats["delta"], k_lo, k_hi, w=w))
        r["0.5 v3 + 0.5 stat (delta), k = 1"] = S.score(win, S.blend(q, stats["delta"], 1.0, 1.0))
        r["k"] = [k_lo, k_hi]
        if args.gbm:
            from . import walmart_gbm as W
            gm = W.fit_recipe(data, week_of(cut), dict(W.GBM_HYPER), log, quantiles=(0.5,))
            pt = W.parts(gm, win["x"])
            g = W.serve(pt, W.RECIPE["gbm_weight"], 0.0, 1.0, 1.0) * win["s"][:, None, None]
            r["walmart-gbm median (ONNX part alone)"] = S.score(win, g)
            for m in ("none", "delta"):
                r[f"0.5 walmart-gbm + 0.5 stat, seasonal step {m}"] = S.score(win, S.blend(g, stats[m], 1.0, 1.0))
        if args.mstl:
            ms = mstl_peer(full, win)
            r["peer MSTL + AutoETS alone"] = S.score(win, S.blend(q, ms, 1.0, 1.0, w=1.0))
            r["0.5 v3 + 0.5 peer MSTL"] = S.score(win, S.blend(q, ms, 1.0, 1.0))
        res[name] = {k: ({kk: round(vv, 4) if isinstance(vv, float) else vv for kk, vv in v.items()} if isinstance(v, dict) else v)
                     for k, v in r.items()}
        for k, v in res[name].items():
            log(f"{name} {k}: {v}")
        json.dump(res, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
