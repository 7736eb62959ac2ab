"""Weekly Walmart model `walmart-gbm`: LightGBM residual models on the seasonal anchor,
combined with the v3 MLP, in one ONNX graph with the model contract of docs/features.md.

Usage: python -m forecast_training.walmart_gbm --data DIR [--train-until YYYY-MM-DD] [--out-dir DIR]

Recipe (docs/model.md, section "walmart-gbm"; bench/results/walmart-gbm-study.md has the sweep):
- derived per-horizon inputs from the 45 spec-v2 features only (no feature-spec change):
  horizon h, the MLP's anchor A_h, the fallback's point F_h, last year's week and its two
  neighbours, markdown_h, and per series the deviations d_k = lag_k - g * ly_lag_k, the raw
  lags, log of the unclipped 8-week growth, the history flag, the 8-week mean, the smoothed
  level, log_scale and mean_4_over_52; no holiday flags, week of year or temperature;
- one LightGBM booster per quantile (0.1 L=quantile, 0.5 L=l1, 0.9 L=quantile), the four
  horizons stacked as rows, target (y / s - F_h), weight s x 5 in IsHoliday weeks (the
  weighted L1 is WMAE in sales units); gbm quantile q_h = F_h + r_h;
- served median p50 = GBM_WEIGHT * relu(F_h + r50) + (1 - GBM_WEIGHT) * (v3 MLP median, itself
  0.5 network + 0.5 fallback); widths around it: the GBM's own (p50_gbm - p10_gbm,
  p90_gbm - p50_gbm) times k_lo / k_hi fitted out of sample on the last 8 training weeks
  (as train.py does for v3); times exp(log_scale).
All three boosters are written as one ai.onnx.ml TreeEnsembleRegressor with 3 targets.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .calendar_buckets import label_date
from .dataset import HOLIDAY_WEIGHT, TrainingRows, build_rows
from .export_onnx import IR_VERSION, OPSET, to_onnx as mlp_to_onnx
from .feature_spec import FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC_HASH, FEATURE_SPEC_VERSION, IDX
from .features import H, build_features
from .quantile_mlp import (LAG_COLS, LY_COLS, QUANTILES, MlpParams, derive, fallback_point, fit as mlp_fit,
                           forward_net, combine, FB_LEVEL_WEIGHTS)
from .train import HYPER as MLP_HYPER, REFERENCE_ORIGINS, REFERENCE_PROBS, week_of
from .walmart import PAD, WalmartData, load_walmart, truncate_sales
from .parity_vectors import walmart_rows, write_parity

ROOT = Path(__file__).resolve().parents[2]
THREADS = int(os.environ.get("GBM_THREADS", "2"))  # LightGBM threads (the machine is shared)
ML_OPSET = 3

SEASON6_COLS = [IDX[f"seasonal_{n}"] for n in ("m1", "0", "p1", "p2", "p3", "p4")]
MD_COLS = [IDX[f"markdown_h{h}"] for h in range(1, H + 1)]
HOL_COLS = [IDX[f"holiday_h{h}"] for h in range(1, H + 1)]

# Chosen on the validation window 2011-05-06 .. 2011-10-28 with models trained until
# 2011-04-29 (bench/results/walmart-gbm-study.md).
GBM_HYPER = {
    "objective_p50": "l1",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 255,
    "rounds": 500,  # p50 booster
    "rounds_q": 200,  # p10 / p90 boosters (widths only; fewer trees = cheaper inference)
    "seed": 1,
    "base": "anchor",  # residual target relative to F_h ("fallback") or A_h ("anchor")
    "calendar": False,  # holiday_h / woy inputs
}
RECIPE = {
    # served median: weights of the components (walmart_gbm.MEDIAN_PARTS), chosen on the validation window
    "gbm_weight": {"gbm": 0.3, "fallback": 0.5, "anchor": 0.2},
    "width_gbm": 0.0,  # share of the GBM widths in the interval widths (rest: the MLP's); 0: no p10/p90 boosters
    "calibration_weeks": 8,
}

PER_H_NAMES = ["h", "anchor", "fallback", "ly_prev", "ly_same", "ly_next", "markdown"]
CAL_NAMES = ["holiday", "woy_sin", "woy_cos"]
COMMON_NAMES = [f"d_{k}" for k in range(8)] + [f"lag_{k}" for k in range(8)] + \
    ["log_growth_raw", "has_history", "level8", "level_smooth", "log_scale", "mean_4_over_52"]


def gbm_feature_names(calendar: bool) -> list[str]:
    return PER_H_NAMES + (CAL_NAMES if calendar else []) + COMMON_NAMES


def gbm_inputs(x: np.ndarray, calendar: bool) -> np.ndarray:
    """Feature rows [n, 45] -> stacked GBM inputs [n, H, F] (float64), what the graph computes."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    anchor, f = derive(x)  # anchor [n, H]; f[:, 4:12] = d_k, f[:, 12] = log g, 13 = has, 14 = level
    fb = fallback_point(x)
    lags, ly = x[:, LAG_COLS], x[:, LY_COLS]
    now, then = lags.sum(axis=1), ly.sum(axis=1)
    has = (now > 0) & (then > 0)
    log_ratio = np.where(has, np.log(np.where(has, now, 1.0) / np.where(has, then, 1.0)), 0.0)
    s6 = x[:, SEASON6_COLS]
    per = [np.broadcast_to(np.arange(1, H + 1, dtype=np.float64), (n, H)), anchor, fb,
           s6[:, 0:4], s6[:, 1:5], s6[:, 2:6], x[:, MD_COLS]]
    if calendar:
        per += [x[:, HOL_COLS], np.repeat(x[:, [IDX["woy_sin"]]], H, axis=1), np.repeat(x[:, [IDX["woy_cos"]]], H, axis=1)]
    common = np.concatenate([f[:, 4:12], lags, log_ratio[:, None], has[:, None].astype(np.float64), (now / 8)[:, None],
                             (lags @ FB_LEVEL_WEIGHTS)[:, None], x[:, [IDX["log_scale"]]], x[:, [IDX["mean_4_over_52"]]]],
                            axis=1)
    return np.concatenate([np.stack(per, axis=2), np.repeat(common[:, None, :], H, axis=1)], axis=2)


def base_of(x: np.ndarray, base: str) -> np.ndarray:
    return fallback_point(x) if base == "fallback" else derive(x)[0]


@dataclass
class GbmModel:
    boosters: list  # lightgbm.Booster for q = 0.1, 0.5, 0.9 (residuals in units of s)
    hyper: dict
    mlp: MlpParams
    gbm_weight: object = 0.3  # float or a component-weight dict (weights_of); main() sets RECIPE["gbm_weight"]
    width_gbm: float = RECIPE["width_gbm"]
    k_lo: float = 1.0
    k_hi: float = 1.0
    info: dict = field(default_factory=dict)


def fit_gbm(rows: TrainingRows, hyper: dict, log=print, quantiles=QUANTILES, valid=None) -> list:
    import lightgbm as lgb

    g = gbm_inputs(rows.x, hyper["calendar"]).astype(np.float32)
    resid = rows.target.astype(np.float64) - base_of(rows.x, hyper["base"])
    F = g.shape[2]
    X = g.reshape(-1, F)
    y = resid.reshape(-1)
    w = rows.weight.astype(np.float64).reshape(-1)
    keep = w > 0
    X, y, w = X[keep], y[keep], w[keep]
    w = w / w.mean()
    ds = lgb.Dataset(X, y, weight=w, feature_name=gbm_feature_names(hyper["calendar"]), free_raw_data=False,
                     params={"max_bin": hyper["max_bin"], "verbose": -1})
    boosters = []
    for q in quantiles:
        params = {
            "objective": hyper["objective_p50"] if q == 0.5 else "quantile",
            "alpha": q, "learning_rate": hyper["learning_rate"], "num_leaves": hyper["num_leaves"],
            "min_data_in_leaf": hyper["min_data_in_leaf"], "feature_fraction": hyper["feature_fraction"],
            "bagging_fraction": hyper["bagging_fraction"], "bagging_freq": hyper["bagging_freq"],
            "lambda_l2": hyper["lambda_l2"], "seed": hyper["seed"], "num_threads": THREADS, "verbose": -1,
            "deterministic": True, "force_col_wise": True,
        }
        t0 = time.time()
        rounds = hyper["rounds"] if q == 0.5 else hyper.get("rounds_q", hyper["rounds"])
        b = lgb.train(params, ds, num_boost_round=rounds)
        log(f"gbm q={q}: {rounds} rounds on {len(y)} rows, {time.time() - t0:.1f}s")
        boosters.append(b)
    return boosters


def gbm_residuals(boosters, x: np.ndarray, hyper: dict, num_iteration=None) -> np.ndarray:
    """[n, H, 3] residual quantiles (units of s) from the boosters on float32 GBM inputs."""
    g = gbm_inputs(x, hyper["calendar"]).astype(np.float32)
    X = g.reshape(-1, g.shape[2])
    out = np.stack([b.predict(X, num_iteration=num_iteration, num_threads=THREADS) for b in boosters], axis=1)
    out = out.reshape(len(x), H, len(boosters))
    return np.repeat(out, 3, axis=2) if len(boosters) == 1 else out  # p50 booster only: widths 0


def parts(model: GbmModel, x: np.ndarray, num_iteration=None) -> dict:
    """Components of the served forecast, units of s."""
    x = np.asarray(x, dtype=np.float64)
    r = gbm_residuals(model.boosters, x, model.hyper, num_iteration)
    base = base_of(x, model.hyper["base"])
    g50 = np.maximum(base + r[:, :, 1], 0.0)
    g10, g90 = base + r[:, :, 0], base + r[:, :, 2]
    anchor, f = derive(x)
    qn = forward_net(model.mlp, anchor, f)
    m50 = combine(model.mlp, x, qn)[:, :, 1]
    return {"g50": g50, "gw_lo": np.maximum(g50 - g10, 0.0), "gw_hi": np.maximum(g90 - g50, 0.0), "m50": m50,
            "mw_lo": qn[:, :, 1] - qn[:, :, 0], "mw_hi": qn[:, :, 2] - qn[:, :, 1],
            "n50": qn[:, :, 1], "fb": fallback_point(x), "anchor": anchor}


# components of the served median: name -> (parts key, graph tensor [N, H, 1])
MEDIAN_PARTS = {"gbm": ("g50", "g/g50"), "mlp_v3": ("m50", "mlp/p50"), "mlp_net": ("n50", "mlp/net_p50"),
                "fallback": ("fb", "g/fb3"), "anchor": ("anchor", "g/anchor3")}


def weights_of(gbm_weight) -> dict:
    """A float w means {gbm: w, mlp_v3: 1 - w}; a dict names the components."""
    if isinstance(gbm_weight, dict):
        return gbm_weight
    return {"gbm": float(gbm_weight), "mlp_v3": 1.0 - float(gbm_weight)}


def serve(pt: dict, gbm_weight: float, width_gbm: float, k_lo: float, k_hi: float) -> np.ndarray:
    mid = sum(w * pt[MEDIAN_PARTS[c][0]] for c, w in weights_of(gbm_weight).items())
    lo = width_gbm * pt["gw_lo"] + (1 - width_gbm) * pt["mw_lo"]
    hi = width_gbm * pt["gw_hi"] + (1 - width_gbm) * pt["mw_hi"]
    return np.stack([np.maximum(mid - k_lo * lo, 0.0), mid, mid + k_hi * hi], axis=2)


def forward(model: GbmModel, x: np.ndarray) -> np.ndarray:
    """Feature rows -> served quantiles [n, H, 3] in units of s (the graph's twin)."""
    return serve(parts(model, x), model.gbm_weight, model.width_gbm, model.k_lo, model.k_hi)


def fit_k(pt: dict, actual: np.ndarray, ok: np.ndarray, gbm_weight: float, width_gbm: float) -> tuple[float, float]:
    """k_lo / k_hi putting 10% of held-out actuals below p10 and 10% above p90."""
    q = serve(pt, gbm_weight, width_gbm, 1.0, 1.0)
    mid = q[:, :, 1]
    lo = np.maximum(width_gbm * pt["gw_lo"] + (1 - width_gbm) * pt["mw_lo"], 1e-9)
    hi = np.maximum(width_gbm * pt["gw_hi"] + (1 - width_gbm) * pt["mw_hi"], 1e-9)
    below = np.where(actual < mid, (mid - actual) / lo, 0.0)[ok]
    above = np.where(actual > mid, (actual - mid) / hi, 0.0)[ok]
    return float(np.quantile(below, 0.9)), float(np.quantile(above, 0.9))


def window(data: WalmartData, first_target: int, last_target: int, first_origin: int | None = None):
    """(x, actual / s, ok, actual, snaive, weight, s) for every origin with a target in the window."""
    n = len(data.series_ids)
    origins = np.arange(first_origin if first_origin is not None else first_target - H, last_target)
    rows = np.repeat(np.arange(n), len(origins))
    orig = np.tile(origins, n)
    x = build_features(data.dense, rows, orig)
    s = np.exp(x[:, IDX["log_scale"]].astype(np.float64))
    actual = np.zeros((len(rows), H))
    snaive = np.zeros((len(rows), H))
    w = np.zeros((len(rows), H))
    ok = np.zeros((len(rows), H), dtype=bool)
    for h in range(1, H + 1):
        t = orig + h
        b = t - data.dense.first_bucket
        ok[:, h - 1] = data.has_row[rows, b] & (t >= first_target) & (t <= last_target)
        actual[:, h - 1] = data.dense.sales[rows, b]
        snaive[:, h - 1] = np.where(data.has_row[rows, b - 52], data.dense.sales[rows, b - 52], 0.0)
        w[:, h - 1] = np.where(data.holiday[b], HOLIDAY_WEIGHT, 1.0) * ok[:, h - 1]
    return {"x": x, "y_s": actual / s[:, None], "ok": ok, "actual": actual, "snaive": snaive, "w": w, "s": s,
            "origin": orig}


def score(win: dict, q_s: np.ndarray) -> dict:
    """WMAE ratio to seasonal naive and p10-p90 coverage of quantiles in units of s."""
    q = q_s * win["s"][:, None, None]
    w, ok, a = win["w"], win["ok"], win["actual"]
    err = (w * np.abs(a - q[:, :, 1])).sum()
    base = (w * np.abs(a - win["snaive"])).sum()
    cover = (ok & (a >= q[:, :, 0]) & (a <= q[:, :, 2])).sum() / ok.sum()
    return {"wmae": err / w.sum(), "snaive": base / w.sum(), "ratio": err / base, "coverage": float(cover),
            "pairs": int(ok.sum())}


def fit_recipe(data: WalmartData, last_week: int, hyper: dict, log=print, with_mlp: bool = True,
               quantiles=QUANTILES) -> GbmModel:
    """Boosters + v3 MLP on targets <= last_week (k = 1)."""
    first_origin = data.dense.first_bucket + PAD + MLP_HYPER["min_history_weeks"]
    rows = build_rows(data, first_origin, last_week, MLP_HYPER["scale_power"])
    log(f"training rows: {len(rows.x)} (targets <= {label_date(last_week, 'week')})")
    boosters = fit_gbm(rows, hyper, log, quantiles=quantiles)
    mlp = None
    if with_mlp:
        t0 = time.time()
        mlp = mlp_fit(rows.x, rows.target, rows.weight, horizons=H, hidden=MLP_HYPER["hidden"],
                      epochs=MLP_HYPER["epochs"], batch=MLP_HYPER["batch"], lr=MLP_HYPER["lr"],
                      weight_decay=MLP_HYPER["weight_decay"], seed=MLP_HYPER["seed"],
                      min_active=MLP_HYPER["min_active"], clamp=MLP_HYPER["input_clamp_quantile"], log=lambda m: None)
        log(f"mlp: {time.time() - t0:.1f}s")
    return GbmModel(boosters, dict(hyper), mlp, info={"rows": int(len(rows.x)), "firstOrigin": int(first_origin)})


def calibrate_recipe(data: WalmartData, last_week: int, hyper: dict, gbm_weight: float, width_gbm: float,
                     log=print) -> tuple[float, float, dict]:
    """The recipe trained without the last calibration weeks forecasts them -> (k_lo, k_hi)."""
    cut = last_week - RECIPE["calibration_weeks"]
    held = fit_recipe(data, cut, hyper, log, quantiles=QUANTILES if width_gbm > 0 else (0.5,))
    win = window(data, cut + 1, last_week)
    pt = parts(held, win["x"])
    k_lo, k_hi = fit_k(pt, win["y_s"], win["ok"], gbm_weight, width_gbm)
    before = score(win, serve(pt, gbm_weight, width_gbm, 1.0, 1.0))["coverage"]
    return k_lo, k_hi, {"heldOutTargets": [label_date(cut + 1, "week").isoformat(), label_date(last_week, "week").isoformat()],
                        "pairs": int(win["ok"].sum()), "coverageBefore": round(before, 4)}


# ----------------------------------------------------------------------------- ONNX export

def _thr32(t: float) -> float:
    """Largest float32 <= t: `x <= t` and `x <= float32(t)` then agree for every float32 x."""
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def tree_ensemble_node(boosters, inp: str, out: str, name: str):
    """All boosters as one TreeEnsembleRegressor; target j = booster j."""
    from onnx import helper

    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                         "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                         "target_treeids", "target_nodeids", "target_ids", "target_weights")}
    tree_id = 0
    for j, b in enumerate(boosters):
        for t in b.dump_model()["tree_info"]:
            counter = [0]

            def visit(nd) -> int:
                my = counter[0]
                counter[0] += 1
                if "leaf_value" in nd or "split_feature" not in nd:
                    a["nodes_treeids"].append(tree_id); a["nodes_nodeids"].append(my)
                    a["nodes_featureids"].append(0); a["nodes_values"].append(0.0); a["nodes_modes"].append("LEAF")
                    a["nodes_truenodeids"].append(0); a["nodes_falsenodeids"].append(0)
                    a["nodes_missing_value_tracks_true"].append(0)
                    a["target_treeids"].append(tree_id); a["target_nodeids"].append(my); a["target_ids"].append(j)
                    a["target_weights"].append(float(nd.get("leaf_value", 0.0)))
                    return my
                if nd["decision_type"] != "<=" or nd.get("missing_type", "None") == "Zero":
                    raise ValueError(f"unsupported split {nd['decision_type']} / {nd.get('missing_type')}")
                pos = len(a["nodes_treeids"])
                a["nodes_treeids"].append(tree_id); a["nodes_nodeids"].append(my)
                a["nodes_featureids"].append(int(nd["split_feature"])); a["nodes_values"].append(_thr32(float(nd["threshold"])))
                a["nodes_modes"].append("BRANCH_LEQ")
                a["nodes_truenodeids"].append(-1); a["nodes_falsenodeids"].append(-1)
                a["nodes_missing_value_tracks_true"].append(1 if nd.get("default_left", True) else 0)
                left = visit(nd["left_child"])
                right = visit(nd["right_child"])
                a["nodes_truenodeids"][pos] = left
                a["nodes_falsenodeids"][pos] = right
                return my

            visit(t["tree_structure"])
            tree_id += 1
    return helper.make_node("TreeEnsembleRegressor", [inp], [out], name=name, domain="ai.onnx.ml",
                            n_targets=len(boosters), aggregate_function="SUM", post_transform="NONE",
                            base_values=[0.0] * len(boosters), **a)


def _needed(nodes, outputs: set[str]):
    keep, need = [], set(outputs)
    for nd in reversed(nodes):
        if set(nd.output) & need:
            keep.append(nd)
            need |= set(nd.input)
    return list(reversed(keep))


def to_onnx(model: GbmModel, doc: str):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    # The v3 MLP graph supplies anchor, fallback point, lags, growth, ... and its median / widths.
    m = mlp_to_onnx(model.mlp, "mlp part")
    want = {"anchor", "fb_point", "lags", "d", "has_f", "level", "fb_level", "now", "then", "p50", "net_p50",
            "net_p10", "above", "has"}
    mlp_nodes = _needed(list(m.graph.node), want)
    ren = lambda s: s if s == "features" else f"mlp/{s}"
    nodes = []
    for nd in mlp_nodes:
        c = onnx.NodeProto()
        c.CopyFrom(nd)
        del c.input[:]; c.input.extend([ren(i) for i in nd.input])
        del c.output[:]; c.output.extend([ren(o) for o in nd.output])
        nodes.append(c)
    used = {i for nd in nodes for i in nd.input}
    inits = []
    for t in m.graph.initializer:
        if ren(t.name) in used:
            c = onnx.TensorProto(); c.CopyFrom(t); c.name = ren(t.name); inits.append(c)

    cal = model.hyper["calendar"]
    F = len(gbm_feature_names(cal))
    f32 = lambda a, name: numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)
    i64 = lambda a, name: numpy_helper.from_array(np.asarray(a, dtype=np.int64), name)
    inits += [
        i64(SEASON6_COLS, "g/s6_cols"), i64(MD_COLS, "g/md_cols"), i64(HOL_COLS, "g/hol_cols"),
        i64([IDX["log_scale"]], "g/ls_col"), i64([IDX["mean_4_over_52"]], "g/m4_col"),
        i64([IDX["woy_sin"], IDX["woy_cos"]], "g/woy_cols"),
        i64([0, 1, 2, 3], "g/prev_idx"), i64([1, 2, 3, 4], "g/same_idx"), i64([2, 3, 4, 5], "g/next_idx"),
        i64([2], "g/ax2"), i64([1], "g/ax1"), i64([len(COMMON_NAMES)], "g/ncommon"), i64([-1, F], "g/flat"),
        i64([-1, H, 3], "g/out3"), i64([-1, H, 1], "g/col3"), i64([-1, 1, 1], "g/scale3"),
        i64([0], "g/s0"), i64([1], "g/s1"), i64([2], "g/s2"), i64([3], "g/s3"),
        f32(np.arange(1, H + 1).reshape(1, H, 1), "g/hconst"),
        f32(0.0, "g/zero"), f32(1.0, "g/one"),
        f32(model.width_gbm, "g/wwg"), f32(1 - model.width_gbm, "g/wwm"),
        f32(model.k_lo, "g/k_lo"), f32(model.k_hi, "g/k_hi"),
    ]
    n = helper.make_node
    col3 = lambda src, dst: n("Reshape", [src, "g/col3"], [dst])
    nodes += [
        n("Gather", ["features", "g/s6_cols"], ["g/s6"], axis=1),
        n("Gather", ["g/s6", "g/prev_idx"], ["g/ly_prev"], axis=1),
        n("Gather", ["g/s6", "g/same_idx"], ["g/ly_same"], axis=1),
        n("Gather", ["g/s6", "g/next_idx"], ["g/ly_next"], axis=1),
        n("Gather", ["features", "g/md_cols"], ["g/md"], axis=1),
        col3("mlp/anchor", "g/anchor3"), col3("mlp/fb_point", "g/fb3"), col3("g/ly_prev", "g/prev3"),
        col3("g/ly_same", "g/same3"), col3("g/ly_next", "g/next3"), col3("g/md", "g/md3"),
        n("Shape", ["g/anchor3"], ["g/shape_nh1"]),
        n("Expand", ["g/hconst", "g/shape_nh1"], ["g/h3"]),
    ]
    per = ["g/h3", "g/anchor3", "g/fb3", "g/prev3", "g/same3", "g/next3", "g/md3"]
    if cal:
        nodes += [
            n("Gather", ["features", "g/hol_cols"], ["g/hol"], axis=1), col3("g/hol", "g/hol3"),
            n("Gather", ["features", "g/woy_cols"], ["g/woy"], axis=1),
            n("Unsqueeze", ["g/woy", "g/ax1"], ["g/woy1"]),  # [N, 1, 2]
            n("Shape", ["g/anchor3"], ["g/shape_nh"], end=2), n("Concat", ["g/shape_nh", "g/s2"], ["g/shape_nh2"], axis=0),
            n("Expand", ["g/woy1", "g/shape_nh2"], ["g/woy3"]),
        ]
        per += ["g/hol3", "g/woy3"]
    # log of the unclipped growth where there is comparable history, else 0
    nodes += [
        n("Where", ["mlp/has", "mlp/now", "g/one"], ["g/now_safe"]),
        n("Where", ["mlp/has", "mlp/then", "g/one"], ["g/then_safe"]),
        n("Div", ["g/now_safe", "g/then_safe"], ["g/ratio"]), n("Log", ["g/ratio"], ["g/log_ratio"]),
        n("Gather", ["features", "g/ls_col"], ["g/log_scale"], axis=1),
        n("Gather", ["features", "g/m4_col"], ["g/m4"], axis=1),
        n("Concat", ["mlp/d", "mlp/lags", "g/log_ratio", "mlp/has_f", "mlp/level", "mlp/fb_level", "g/log_scale", "g/m4"],
          ["g/common"], axis=1),
        n("Unsqueeze", ["g/common", "g/ax1"], ["g/common1"]),
        n("Shape", ["g/anchor3"], ["g/shape_nh_c"], end=2),
        n("Concat", ["g/shape_nh_c", "g/ncommon"], ["g/shape_common"], axis=0),
        n("Expand", ["g/common1", "g/shape_common"], ["g/common3"]),
        n("Concat", per + ["g/common3"], ["g/in3"], axis=2),
        n("Reshape", ["g/in3", "g/flat"], ["g/in"]),
        tree_ensemble_node(model.boosters, "g/in", "g/r_flat", "gbm"),
    ]
    if len(model.boosters) == 3:
        nodes += [
            n("Reshape", ["g/r_flat", "g/out3"], ["g/r3"]),
            n("Slice", ["g/r3", "g/s0", "g/s1", "g/ax2"], ["g/r10"]),
            n("Slice", ["g/r3", "g/s1", "g/s2", "g/ax2"], ["g/r50"]),
            n("Slice", ["g/r3", "g/s2", "g/s3", "g/ax2"], ["g/r90"]),
        ]
    else:  # the p50 booster only (GBM widths unused): r10 = r90 = r50
        nodes += [n("Reshape", ["g/r_flat", "g/col3"], ["g/r50"]), n("Identity", ["g/r50"], ["g/r10"]),
                  n("Identity", ["g/r50"], ["g/r90"])]
    base3 = "g/fb3" if model.hyper["base"] == "fallback" else "g/anchor3"
    nodes += [
        n("Add", [base3, "g/r50"], ["g/g50_raw"]), n("Relu", ["g/g50_raw"], ["g/g50"]),
        n("Add", [base3, "g/r10"], ["g/g10"]), n("Add", [base3, "g/r90"], ["g/g90"]),
        n("Sub", ["g/g50", "g/g10"], ["g/gw_lo_raw"]), n("Relu", ["g/gw_lo_raw"], ["g/gw_lo"]),
        n("Sub", ["g/g90", "g/g50"], ["g/gw_hi_raw"]), n("Relu", ["g/gw_hi_raw"], ["g/gw_hi"]),
        n("Sub", ["mlp/net_p50", "mlp/net_p10"], ["g/mw_lo"]),
    ]
    wts = [(c, w) for c, w in weights_of(model.gbm_weight).items() if w != 0.0]
    terms = []
    for c, w in wts:
        inits.append(f32(w, f"g/w_{c}"))
        nodes.append(n("Mul", [MEDIAN_PARTS[c][1], f"g/w_{c}"], [f"g/mid_{c}"]))
        terms.append(f"g/mid_{c}")
    nodes.append(n("Sum", terms, ["g/p50"]))
    nodes += [
        n("Mul", ["g/gw_lo", "g/wwg"], ["g/lo_g"]), n("Mul", ["g/mw_lo", "g/wwm"], ["g/lo_m"]),
        n("Add", ["g/lo_g", "g/lo_m"], ["g/lo"]), n("Mul", ["g/lo", "g/k_lo"], ["g/lo_k"]),
        n("Mul", ["g/gw_hi", "g/wwg"], ["g/hi_g"]), n("Mul", ["mlp/above", "g/wwm"], ["g/hi_m"]),
        n("Add", ["g/hi_g", "g/hi_m"], ["g/hi"]), n("Mul", ["g/hi", "g/k_hi"], ["g/hi_k"]),
        n("Sub", ["g/p50", "g/lo_k"], ["g/p10_raw"]), n("Relu", ["g/p10_raw"], ["g/p10"]),
        n("Add", ["g/p50", "g/hi_k"], ["g/p90"]),
        n("Concat", ["g/p10", "g/p50", "g/p90"], ["g/qn"], axis=2),
        n("Exp", ["g/log_scale"], ["g/scale"]), n("Reshape", ["g/scale", "g/scale3"], ["g/scale3v"]),
        n("Mul", ["g/qn", "g/scale3v"], ["quantiles"]),
    ]
    used = {i for nd in nodes for i in nd.input}
    inits = [t for t in inits if t.name in used]
    graph = helper.make_graph(
        nodes, "walmart_gbm_mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", FEATURE_COUNT])],
        [helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, ["batch", H, len(QUANTILES)])],
        inits,
    )
    out = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
                            producer_name="forecast-stream-training", doc_string=doc)
    out.ir_version = IR_VERSION
    onnx.checker.check_model(out, full_check=True)
    return out


def reference_distribution(model: GbmModel, data: WalmartData, last_origin: int) -> dict:
    n = len(data.series_ids)
    origins = np.arange(last_origin - REFERENCE_ORIGINS + 1, last_origin + 1)
    rows = np.repeat(np.arange(n), len(origins))
    x = build_features(data.dense, rows, np.tile(origins, n)).astype(np.float64)
    q = forward(model, x)
    return {
        "about": "quantiles over series x origins of p50/s and (p90-p10)/s per horizon, s = exp(log_scale)",
        "origins": [label_date(int(o), "week").isoformat() for o in (origins[0], origins[-1])],
        "samples": int(len(x)),
        "probs": REFERENCE_PROBS,
        "p50OverScale": [np.quantile(q[:, h, 1], REFERENCE_PROBS).round(6).tolist() for h in range(H)],
        "widthOverScale": [np.quantile(q[:, h, 2] - q[:, h, 0], REFERENCE_PROBS).round(6).tolist() for h in range(H)],
    }


def parity(model: GbmModel, onnx_bytes: bytes, x: np.ndarray) -> dict:
    """ONNX vs the LightGBM/numpy pipeline: whole graph (float64 twin) and the trees alone."""
    import onnx
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, so, providers=["CPUExecutionProvider"])
    x32 = np.asarray(x, dtype=np.float32)
    got = sess.run(None, {"features": x32})[0].astype(np.float64)
    s = np.exp(x32[:, IDX["log_scale"]].astype(np.float64))
    expect = forward(model, x32.astype(np.float64)) * s[:, None, None]
    abs_err = np.abs(got - expect)
    # the trees alone, on the graph's own float32 inputs: expose g/in and g/r_flat
    m = onnx.load_from_string(onnx_bytes)
    for name, shape in (("g/in", None), ("g/r_flat", None)):
        m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    sess2 = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    _, gin, rflat = sess2.run(None, {"features": x32})
    lgb_r = np.stack([b.predict(gin, num_threads=THREADS) for b in model.boosters], axis=1)
    return {
        "rows": int(len(x)),
        "maxAbsErrSales": float(abs_err.max()),
        "maxRelErr": float((abs_err / (1 + np.abs(expect))).max()),
        "maxAbsErrOverScale": float((abs_err / s[:, None, None]).max()),
        "treesMaxAbsErr": float(np.abs(rflat - lgb_r).max()),
        "gbmInputsMaxAbsErr": float(np.abs(gin - gbm_inputs(x32.astype(np.float64), model.hyper["calendar"])
                                           .reshape(-1, gin.shape[1]).astype(np.float32)).max()),
    }


def bench(onnx_bytes: bytes, x: np.ndarray, batch: int = 1024, repeats: int = 50) -> float:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, so, providers=["CPUExecutionProvider"])
    xb = np.asarray(x[:batch], dtype=np.float32)
    for _ in range(5):
        sess.run(None, {"features": xb})
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sess.run(None, {"features": xb})
        times.append(time.perf_counter() - t0)
    return float(np.median(times) / len(xb) * 1e6)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/walmart2014"))
    ap.add_argument("--train-until", default=None, help="last sales week used (a Friday); default: all")
    ap.add_argument("--out-dir", default=None, help="default engines/walmart-gbm/<version>")
    ap.add_argument("--name", default="walmart-gbm")
    ap.add_argument("--version", default=None, help="default 1-<last training week>")
    args = ap.parse_args(argv)
    t0 = time.time()
    log = lambda m: print(f"[{time.time() - t0:6.1f}s] {m}", file=sys.stderr, flush=True)

    data = load_walmart(args.data)
    last_data_week = int(np.flatnonzero(data.has_row.any(axis=0)).max()) + data.dense.first_bucket
    last_week = week_of(args.train_until) if args.train_until else last_data_week
    if last_week > last_data_week:
        raise SystemExit(f"--train-until {args.train_until} is after the last sales week {label_date(last_data_week, 'week')}")
    truncate_sales(data, last_week)

    gw, ww = RECIPE["gbm_weight"], RECIPE["width_gbm"]
    log("calibration recipe (without the last calibration weeks)")
    k_lo, k_hi, cal = calibrate_recipe(data, last_week, GBM_HYPER, gw, ww, log)
    log(f"calibration: k_lo {k_lo:.3f}, k_hi {k_hi:.3f} (held-out coverage at k = 1: {cal['coverageBefore']:.3f})")
    model = fit_recipe(data, last_week, GBM_HYPER, log, quantiles=QUANTILES if ww > 0 else (0.5,))
    model.gbm_weight, model.width_gbm, model.k_lo, model.k_hi = gw, ww, k_lo, k_hi

    until = label_date(last_week, "week").isoformat()
    version = args.version or f"1-{until}"
    out = Path(args.out_dir) if args.out_dir else ROOT / "engines" / args.name / version
    out.mkdir(parents=True, exist_ok=True)
    onnx_model = to_onnx(model, f"{args.name} {version}: LightGBM residuals on the seasonal anchor combined with the "
                                f"fallback point and the anchor (MLP v3 network for the interval widths), feature spec v{FEATURE_SPEC_VERSION}")
    onnx_bytes = onnx_model.SerializeToString()
    (out / "model.onnx").write_bytes(onnx_bytes)

    first_origin = model.info["firstOrigin"]
    n = len(data.series_ids)
    chk_orig = np.arange(last_week - 12, last_week)
    chk_x = build_features(data.dense, np.repeat(np.arange(n), len(chk_orig)), np.tile(chk_orig, n))
    par = parity(model, onnx_bytes, chk_x)
    log(f"onnxruntime check: {par}")
    # The trees must agree exactly on the same inputs; end to end, float32 growth/anchor arithmetic in
    # the graph can move an input across a split threshold now and then (a leaf step, reported).
    if par["treesMaxAbsErr"] > 1e-4 or par["maxRelErr"] > 1e-2:
        raise SystemExit(f"exported graph differs from the trained model ({par})")
    us = bench(onnx_bytes, chk_x)
    log(f"onnxruntime: {us:.2f} us/series at batch 1024, 1 thread")

    meta = {
        "name": args.name,
        "version": version,
        "format": "onnx",
        "file": "model.onnx",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "opset": OPSET,
        "bucketSize": "week",
        "featureSpec": {"version": FEATURE_SPEC_VERSION, "hash": FEATURE_SPEC_HASH, "names": FEATURE_NAMES},
        "input": {"name": "features", "shape": [-1, FEATURE_COUNT], "type": "float32"},
        "output": {"name": "quantiles", "shape": [-1, H, len(QUANTILES)], "type": "float32"},
        "horizons": list(range(1, H + 1)),
        "quantiles": list(QUANTILES),
        "training": {
            "data": "walmart2014 (Kaggle Walmart Recruiting - Store Sales Forecasting)",
            "firstOrigin": label_date(first_origin, "week").isoformat(),
            "trainUntil": until,
            "series": n,
            "rows": model.info["rows"],
            "loss": f"LightGBM l1 (p50) [/ quantile (p10, p90) when widthGbm > 0] on y/s - {GBM_HYPER['base']} (units of s), horizons stacked, weight scale x "
                    f"{HOLIDAY_WEIGHT} in IsHoliday weeks; MLP v3 part: pinball, as walmart-mlp",
            "hyperparameters": {"gbm": GBM_HYPER, "recipe": RECIPE, "mlp": MLP_HYPER,
                                "gbmInputs": gbm_feature_names(GBM_HYPER["calendar"]),
                                "onnxDomains": {"": OPSET, "ai.onnx.ml": ML_OPSET}},
            "intervalCalibration": {"kLo": round(k_lo, 6), "kHi": round(k_hi, 6), **cal},
            "exportCheck": par,
            "onnxMicrosecondsPerSeriesBatch1024": round(us, 3),
            "seconds": round(time.time() - t0, 1),
        },
        "referenceDistribution": reference_distribution(model, data, last_week - 1),
    }
    (out / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    px = walmart_rows(data, last_week)
    par = write_parity(out, onnx_bytes, px, source=f"walmart2014: real feature rows at origins before trainUntil {until} (training/forecast_training/parity_vectors.py)",
                       reference=forward(model, px.astype(np.float64)) * np.exp(px[:, IDX["log_scale"]].astype(np.float64))[:, None, None])
    log(f"wrote {out} ({len(onnx_bytes)} bytes), parity.json {par['rows']} rows (graph vs model {par['training']['maxRelDiff']:.1e})")


if __name__ == "__main__":
    main()
