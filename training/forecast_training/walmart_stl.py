"""Weekly Walmart model `walmart-stl`: the walmart-mlp v3 network (ONNX) averaged with a per-series
statistical forecast (STL + exponential smoothing, `stl_ses`) that the server computes in
TypeScript from the series' history (`src/inference/statistical/`).

Usage: python -m forecast_training.walmart_stl --data DIR [--train-until YYYY-MM-DD] [--out-dir DIR]
       python -m forecast_training.walmart_stl --vectors   # regenerate test/vectors/stl-ses.json

Served forecast (docs/model.md, section "walmart-stl"), q = the ONNX output (v3's graph with
k_lo = k_hi = 1: v3's median, the network's own widths), S_h = the statistical forecast:
    m_h  = max(0, (1 - w) q50_h + w S_h)          (m_h = q50_h where S_h is absent: < 56 weeks of history)
    p10  = max(0, m_h - k_lo (q50_h - q10_h)),  p90 = m_h + k_hi (q90_h - q50_h)
w = 0.5 a priori (the equal-weight average of two model classes, as the peers' LightGBM + MSTL);
k_lo / k_hi fitted on the last 8 training weeks by the recipe trained without them (as v3).
model.json `statistical` carries w, k_lo, k_hi and the component's settings; the processor refuses
a model whose component it does not implement.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import stl_ses
from .calendar_buckets import label_date
from .dataset import HOLIDAY_WEIGHT, build_rows
from .export_onnx import OPSET, to_onnx
from .feature_spec import FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC_HASH, FEATURE_SPEC_VERSION, IDX
from .features import H, build_features
from .quantile_mlp import QUANTILES, fit, forward
from .train import HYPER, reference_distribution, week_of
from .walmart import PAD, WalmartData, load_walmart, truncate_sales
from .parity_vectors import walmart_rows, write_parity

ROOT = Path(__file__).resolve().parents[2]
STAT_WEIGHT = 0.5  # a priori, not fitted (docs/model.md)
COMPONENT = {"method": "stl-ses", "version": 1, "period": stl_ses.PERIOD, "seasonal": stl_ses.SEASONAL,
             "trend": stl_ses.TREND, "lowPass": stl_ses.LOW_PASS, "innerIterations": stl_ses.INNER_ITER,
             "alphas": list(stl_ses.ALPHAS), "lookback": stl_ses.LOOKBACK, "minHistory": stl_ses.MIN_HISTORY,
             "alignCalendar": stl_ses.ALIGN_CALENDAR}


def first_rows(data: WalmartData) -> np.ndarray:
    """Index of each series' first sale row (a large number where it has none)."""
    has = data.has_row.any(axis=1)
    return np.where(has, np.argmax(data.has_row, axis=1), data.has_row.shape[1] + 10**6)


def statistical(data: WalmartData, rows: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """S_h in sales units [n, H] (NaN where absent) for (series row, origin bucket) pairs."""
    return stl_ses.forecast_pairs(data.dense.sales, first_rows(data), rows, origins - data.dense.first_bucket, H,
                                  data.dense.first_bucket)


def blend(q: np.ndarray, stat: np.ndarray, k_lo: float, k_hi: float, w: float = STAT_WEIGHT) -> np.ndarray:
    """The served quantiles from the ONNX output q [n, H, 3] and S [n, H], same units (TS twin:
    blendStatistical in src/inference/statistical/statistical-component.ts)."""
    q50 = q[:, :, 1]
    mid = np.maximum(np.where(np.isnan(stat), q50, (1 - w) * q50 + w * np.nan_to_num(stat)), 0.0)
    lo, hi = q50 - q[:, :, 0], q[:, :, 2] - q50
    return np.stack([np.maximum(mid - k_lo * lo, 0.0), mid, mid + k_hi * hi], axis=2)


def window(data: WalmartData, first_target: int, last_target: int, first_origin: int | None = None) -> dict:
    """Every (series, origin) with a target in [first_target, last_target]: features, statistical
    forecast and actuals, all in sales units."""
    n = len(data.series_ids)
    origins = np.arange(first_origin if first_origin is not None else first_target - H, last_target)
    rows = np.repeat(np.arange(n), len(origins))
    orig = np.tile(origins, n)
    x = build_features(data.dense, rows, orig)
    s = np.exp(x[:, IDX["log_scale"]].astype(np.float64))
    actual, snaive, w = (np.zeros((len(rows), H)) for _ in range(3))
    ok = np.zeros((len(rows), H), dtype=bool)
    for h in range(1, H + 1):
        t = orig + h
        b = t - data.dense.first_bucket
        ok[:, h - 1] = data.has_row[rows, b] & (t >= first_target) & (t <= last_target)
        actual[:, h - 1] = data.dense.sales[rows, b]
        snaive[:, h - 1] = np.where(data.has_row[rows, b - 52], data.dense.sales[rows, b - 52], 0.0)
        w[:, h - 1] = np.where(data.holiday[b], HOLIDAY_WEIGHT, 1.0) * ok[:, h - 1]
    return {"x": x, "s": s, "stat": statistical(data, rows, orig), "actual": actual, "snaive": snaive, "w": w,
            "ok": ok, "rows": rows, "origin": orig}


def onnx_twin(params, win: dict) -> np.ndarray:
    """What the ONNX graph outputs (k = 1), sales units."""
    return forward(params, win["x"].astype(np.float64)) * win["s"][:, None, None]


def score(win: dict, q: np.ndarray) -> dict:
    w, ok, a = win["w"], win["ok"], win["actual"]
    err = (w * np.abs(a - q[:, :, 1])).sum()
    base = (w * np.abs(a - win["snaive"])).sum()
    return {"wmae": float(err / w.sum()), "ratio": float(err / base),
            "coverage": float((ok & (a >= q[:, :, 0]) & (a <= q[:, :, 2])).sum() / ok.sum()), "pairs": int(ok.sum())}


def fit_k(q: np.ndarray, stat: np.ndarray, actual: np.ndarray, ok: np.ndarray) -> tuple[float, float]:
    """k_lo / k_hi putting 10% of held-out actuals below p10 and 10% above p90 of the blend."""
    mid = blend(q, stat, 1.0, 1.0)[:, :, 1]
    lo = np.maximum(q[:, :, 1] - q[:, :, 0], 1e-9)
    hi = np.maximum(q[:, :, 2] - q[:, :, 1], 1e-9)
    below = np.where(actual < mid, (mid - actual) / lo, 0.0)[ok]
    above = np.where(actual > mid, (actual - mid) / hi, 0.0)[ok]
    return float(np.quantile(below, 0.9)), float(np.quantile(above, 0.9))


def train_mlp(data: WalmartData, last_week: int, log=print):
    first_origin = data.dense.first_bucket + PAD + HYPER["min_history_weeks"]
    rows = build_rows(data, first_origin, last_week, HYPER["scale_power"])
    p = fit(rows.x, rows.target, rows.weight, horizons=H, hidden=HYPER["hidden"], epochs=HYPER["epochs"],
            batch=HYPER["batch"], lr=HYPER["lr"], weight_decay=HYPER["weight_decay"], seed=HYPER["seed"],
            min_active=HYPER["min_active"], clamp=HYPER["input_clamp_quantile"], log=lambda m: None)
    return p, rows, first_origin


def calibrate(data: WalmartData, last_week: int, log=print) -> tuple[float, float, dict]:
    cut = last_week - HYPER["calibration_weeks"]
    held, _, _ = train_mlp(data, cut, log)
    win = window(data, cut + 1, last_week)
    q = onnx_twin(held, win)
    k_lo, k_hi = fit_k(q, win["stat"], win["actual"], win["ok"])
    before = score(win, blend(q, win["stat"], 1.0, 1.0))
    return k_lo, k_hi, {"heldOutTargets": [label_date(cut + 1, "week").isoformat(), label_date(last_week, "week").isoformat()],
                        "pairs": before["pairs"], "coverageBefore": round(before["coverage"], 4)}


# ----------------------------------------------------------------------------- parity vectors

VECTOR_CASES = [  # (series id, origin date): lengths 56 .. 120 (capped), returns, gaps, too short
    ("1-1", "2011-03-04"), ("1-1", "2012-04-20"), ("2-92", "2011-11-25"), ("10-7", "2011-12-23"),
    ("20-72", "2012-01-06"), ("4-38", "2011-06-03"), ("45-98", "2012-02-10"), ("18-99", "2012-03-16"),
    ("1-47", "2011-09-30"), ("3-94", "2011-12-02"), ("14-78", "2011-10-28"), ("40-6", "2010-12-31"),
]


def vectors(data_dir: str) -> dict:
    data = load_walmart(data_dir)
    cases = []
    for sid, date in VECTOR_CASES:
        i = data.series_ids.index(sid)
        o = week_of(date)
        ob = o - data.dense.first_bucket
        weeks = np.flatnonzero(data.has_row[i, :ob + 1])
        sales = [[int(b + data.dense.first_bucket), float(data.dense.sales[i, b])] for b in weeks]
        f = statistical(data, np.array([i]), np.array([o]))[0]
        cases.append({"seriesId": sid, "origin": int(o), "originDate": date, "sales": sales,
                      "expected": None if np.isnan(f).any() else [float(v) for v in f]})
    # synthetic: a gap of absent weeks, and a negative (returns) stretch
    rng = np.random.default_rng(7)
    for name, vals in (("gaps", np.where(rng.random(100) < 0.2, np.nan, rng.normal(500, 80, 100))),
                       ("negative", np.concatenate([rng.normal(-30, 20, 30), rng.normal(40, 25, 70)]))):
        b0 = 2000
        sales = [[b0 + k, float(v)] for k, v in enumerate(vals) if not np.isnan(v)]
        hist = np.nan_to_num(vals, nan=0.0)
        f = stl_ses.forecast(hist, b0 + len(vals) - 1, H)
        cases.append({"seriesId": name, "origin": b0 + len(vals) - 1, "sales": sales,
                      "expected": None if np.isnan(f).any() else [float(v) for v in f]})
    return {"about": "stl-ses statistical component (training/forecast_training/stl_ses.py): sales [bucket, value] of "
                     "the rows up to the origin -> forecasts of origin+1..origin+4 (null: too little history)",
            "component": COMPONENT, "cases": cases}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/walmart2014"))
    ap.add_argument("--train-until", default=None, help="last sales week used (a Friday); default: all")
    ap.add_argument("--out-dir", default=None, help="default engines/walmart-stl/<version>")
    ap.add_argument("--name", default="walmart-stl")
    ap.add_argument("--version", default=None, help="default 1-<last training week>")
    ap.add_argument("--vectors", action="store_true", help="write test/vectors/stl-ses.json and exit")
    ap.add_argument("--score", default=None, help="FROM,TO: also score this window with the numpy twin")
    args = ap.parse_args(argv)
    if args.vectors:
        out = ROOT / "test" / "vectors" / "stl-ses.json"
        out.write_text(json.dumps(vectors(args.data), indent=1) + "\n")
        print(f"wrote {out}")
        return
    t0 = time.time()
    log = lambda m: print(f"[{time.time() - t0:6.1f}s] {m}", file=sys.stderr, flush=True)
    data = load_walmart(args.data)
    full = load_walmart(args.data) if args.score else None
    last_data_week = int(np.flatnonzero(data.has_row.any(axis=0)).max()) + data.dense.first_bucket
    last_week = week_of(args.train_until) if args.train_until else last_data_week
    truncate_sales(data, last_week)

    k_lo, k_hi, cal = calibrate(data, last_week, log)
    log(f"calibration: k_lo {k_lo:.3f}, k_hi {k_hi:.3f} (held-out coverage at k = 1: {cal['coverageBefore']:.3f})")
    params, rows, first_origin = train_mlp(data, last_week, log)
    log(f"network: {len(rows.x)} rows")

    until = label_date(last_week, "week").isoformat()
    version = args.version or f"1-{until}"
    out = Path(args.out_dir) if args.out_dir else ROOT / "engines" / args.name / version
    out.mkdir(parents=True, exist_ok=True)
    model = to_onnx(params, f"{args.name} {version}: walmart-mlp v3 graph with k = 1 (raw network widths); the server "
                            f"averages its median with the stl-ses statistical component (weight {STAT_WEIGHT})")
    onnx_bytes = model.SerializeToString()
    (out / "model.onnx").write_bytes(onnx_bytes)
    check_x = rows.x[:: max(1, len(rows.x) // 4096)]
    expect = forward(params, check_x.astype(np.float64)) * np.exp(check_x[:, IDX["log_scale"]].astype(np.float64))[:, None, None]
    try:
        import onnxruntime as ort

        got = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"]).run(None, {"features": check_x})[0]
        err = float(np.max(np.abs(got - expect) / (1 + np.abs(expect))))
        if err > 1e-3:
            raise SystemExit(f"exported graph differs from the trained model (max rel err {err})")
        log(f"onnxruntime check: max relative error {err:.2e}")
    except ImportError:
        log("onnxruntime not installed: export not cross-checked")

    meta = {
        "name": args.name, "version": version, "format": "onnx", "file": "model.onnx",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(), "opset": OPSET, "bucketSize": "week",
        "featureSpec": {"version": FEATURE_SPEC_VERSION, "hash": FEATURE_SPEC_HASH, "names": FEATURE_NAMES},
        "inputs": ["sales", "promotions"],
        "input": {"name": "features", "shape": [-1, FEATURE_COUNT], "type": "float32"},
        "output": {"name": "quantiles", "shape": [-1, H, len(QUANTILES)], "type": "float32"},
        "horizons": list(range(1, H + 1)),
        "quantiles": list(QUANTILES),
        "statistical": {**COMPONENT, "weight": STAT_WEIGHT, "kLo": round(k_lo, 6), "kHi": round(k_hi, 6),
                        "about": "served p50 = max(0, (1 - weight) * onnx p50 + weight * stl-ses forecast); p10 / p90 = "
                                 "p50 -/+ kLo / kHi x the ONNX output's distances to its p50 (p10 >= 0)"},
        "training": {
            "data": "walmart2014 (Kaggle Walmart Recruiting - Store Sales Forecasting)",
            "firstOrigin": label_date(first_origin, "week").isoformat(), "trainUntil": until,
            "series": len(data.series_ids), "rows": int(len(rows.x)),
            "loss": f"pinball at {list(QUANTILES)}, weight scale^{HYPER['scale_power']} x {HOLIDAY_WEIGHT} in IsHoliday weeks",
            "hyperparameters": HYPER,
            "intervalCalibration": {"kLo": round(k_lo, 6), "kHi": round(k_hi, 6), **cal},
            "seconds": round(time.time() - t0, 1),
        },
        # of the ONNX output (what the drift monitor sees), as walmart-mlp's
        "referenceDistribution": reference_distribution(params, data, last_week - 1),
    }
    (out / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    px = walmart_rows(data, last_week)
    par = write_parity(out, onnx_bytes, px, source=f"walmart2014: real feature rows at origins before trainUntil {until} (training/forecast_training/parity_vectors.py)",
                       reference=forward(params, px.astype(np.float64)) * np.exp(px[:, IDX["log_scale"]].astype(np.float64))[:, None, None])
    log(f"wrote {out} ({len(onnx_bytes)} bytes), parity.json {par['rows']} rows (graph vs model {par['training']['maxRelDiff']:.1e})")
    if args.score:
        a, b = args.score.split(",")
        win = window(full, week_of(a), week_of(b))
        q = onnx_twin(params, win)
        res = {"served": score(win, blend(q, win["stat"], k_lo, k_hi)), "onnx_v3_k1": score(win, q),
               "stat_alone": score(win, blend(q, win["stat"], k_lo, k_hi, w=1.0))}
        log(f"twin on {a} .. {b}: {json.dumps(res)}")


if __name__ == "__main__":
    main()
