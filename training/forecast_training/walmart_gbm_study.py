"""Model selection for walmart-gbm (bench/results/walmart-gbm-study.md).

Every variant is trained twice: until 2011-04-29 and scored on the validation window
2011-05-06 .. 2011-10-28 (the choice is made here), and until 2011-10-28 and scored on the
development window 2011-11-04 .. 2012-04-27 (reported, not used to choose). numpy twin of
`evaluate` (walmart_gbm.score); the final recipe is also checked with the TypeScript CLI.

Usage: python -m forecast_training.walmart_gbm_study --stage median|intervals --out FILE.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from . import walmart_gbm as W
from .dataset import build_rows
from .quantile_mlp import fit as mlp_fit
from .train import HYPER as MLP_HYPER
from .walmart import PAD, load_walmart

CUTS = {"val": ("2011-04-29", "2011-05-06", "2011-10-28"), "dev": ("2011-10-28", "2011-11-04", "2012-04-27")}
VARIANTS = {
    "A_fallback_l31": {},
    "B_anchor_l31": {"base": "anchor"},
    "C_fallback_l31_calendar": {"calendar": True},
    "D_fallback_l127": {"num_leaves": 127, "min_data_in_leaf": 100},
    "E_fallback_l15_lr03": {"num_leaves": 15, "learning_rate": 0.03},
}
ROUNDS = [100, 200, 300, 500]
BLEND = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0]


def log(m):
    print(f"[{time.strftime('%H:%M:%S')}] {m}", file=sys.stderr, flush=True)


def mlp_for(data, rows):
    return mlp_fit(rows.x, rows.target, rows.weight, horizons=4, hidden=MLP_HYPER["hidden"], epochs=MLP_HYPER["epochs"],
                   batch=MLP_HYPER["batch"], lr=MLP_HYPER["lr"], weight_decay=MLP_HYPER["weight_decay"],
                   seed=MLP_HYPER["seed"], min_active=MLP_HYPER["min_active"], clamp=MLP_HYPER["input_clamp_quantile"],
                   log=lambda m: None)


def r(d):
    return {"ratio": round(float(d["ratio"]), 4), "coverage": round(float(d["coverage"]), 4)}


def intervals(args, data):
    """Chosen median recipe: GBM widths / MLP widths / their mean, at k = 1 and with k fitted on the
    last 8 training weeks by the recipe trained without them (walmart_gbm.calibrate_recipe)."""
    hy = dict(W.GBM_HYPER, **VARIANTS[args.variant], rounds=args.rounds)
    res = {"variant": args.variant, "rounds": args.rounds, "gbm_weight": args.gbm_weight}
    for cut_name, (cut, a, b) in CUTS.items():
        last = W.week_of(cut)
        win = W.window(data, W.week_of(a), W.week_of(b))
        model = W.fit_recipe(data, last, hy, log)
        pt = W.parts(model, win["x"])
        # the calibration model: trained 8 weeks earlier, forecasts the last 8 training weeks
        cutc = last - W.RECIPE["calibration_weeks"]
        held = W.fit_recipe(data, cutc, hy, log)
        hwin = W.window(data, cutc + 1, last)
        hpt = W.parts(held, hwin["x"])
        out = {}
        for ww in (1.0, 0.5, 0.0):
            k_lo, k_hi = W.fit_k(hpt, hwin["y_s"], hwin["ok"], args.gbm_weight, ww)
            out[f"width_gbm{ww}"] = {
                "k1": r(W.score(win, W.serve(pt, args.gbm_weight, ww, 1.0, 1.0))),
                "heldout_k1": r(W.score(hwin, W.serve(hpt, args.gbm_weight, ww, 1.0, 1.0))),
                "k": [round(k_lo, 4), round(k_hi, 4)],
                "calibrated": r(W.score(win, W.serve(pt, args.gbm_weight, ww, k_lo, k_hi))),
            }
            log(f"{cut_name} widths {ww}: {out[f'width_gbm{ww}']}")
        for wg in BLEND:
            out[f"median_w{wg}"] = r(W.score(win, W.serve(pt, wg, 1.0, 1.0, 1.0)))
        # free combination of the components gbm / mlp_net / fallback / anchor (weights step 0.1, sum 1)
        simplex = {}
        for a in range(11):
            for b_ in range(11 - a):
                for c in range(11 - a - b_):
                    w = {"gbm": a / 10, "mlp_net": b_ / 10, "fallback": c / 10, "anchor": (10 - a - b_ - c) / 10}
                    key = "/".join(f"{v:.1f}" for v in w.values())
                    simplex[key] = round(float(W.score(win, W.serve(pt, w, 1.0, 1.0, 1.0))["ratio"]), 4)
        out["simplex_gbm/net/fallback/anchor"] = simplex
        best = min(simplex, key=simplex.get)
        log(f"{cut_name} best simplex {best}: {simplex[best]}")
        res[cut_name] = out
        json.dump(res, open(args.out, "w"), indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data/walmart2014")
    ap.add_argument("--stage", default="median")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--variant", default="A_fallback_l31")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--gbm-weight", type=float, default=0.5)
    args = ap.parse_args()
    data = load_walmart(args.data)
    if args.stage == "intervals":
        return intervals(args, data)
    first_origin = data.dense.first_bucket + PAD + MLP_HYPER["min_history_weeks"]
    res = {}
    for cut_name, (cut, a, b) in CUTS.items():
        last = W.week_of(cut)
        rows = build_rows(data, first_origin, last, 1.0)
        win = W.window(data, W.week_of(a), W.week_of(b))
        mlp = mlp_for(data, rows)
        log(f"{cut_name}: {len(rows.x)} rows, mlp fitted")
        mlp_pt = None
        for vname in args.variants.split(","):
            hy = dict(W.GBM_HYPER, **VARIANTS[vname], rounds=max(ROUNDS))
            boosters = W.fit_gbm(rows, hy, log, quantiles=(0.5,))
            out = {}
            for k in ROUNDS:
                # the p50 booster only: pass it as all three (widths are then 0; coverage ignored here)
                m = W.GbmModel([boosters[0]] * 3, hy, mlp)
                pt = W.parts(m, win["x"], num_iteration=k)
                for wg in BLEND:
                    q = W.serve(pt, wg, 0.0, 1.0, 1.0)  # MLP widths (k = 1)
                    out[f"r{k}_w{wg}"] = r(W.score(win, q))
            res.setdefault(vname, {})[cut_name] = out
            log(f"{cut_name} {vname}: " + ", ".join(f"{k}={v['ratio']}" for k, v in out.items() if k.endswith("_w1.0") or k.endswith("_w0.5")))
            json.dump(res, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
