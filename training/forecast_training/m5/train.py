"""Trains the M5 daily SKU model and exports engines/m5-daily-gbm/<version>/.

  python -m forecast_training.m5.train --data DIR --train-until YYYY-MM-DD --out-dir DIR [--no-price-features]

Recipe (bench/results/m5-daily-study.md): one global LightGBM per output on rows
(series, origin, horizon) from weekly Sunday origins; the target is sales / scale with
weight scale (so the weighted L1 loss is exactly WAPE's numerator); p50 = an L1 (quantile
0.5) model (p50Blend < 1 would blend in a tweedie model: worse in the study), p10/p90 =
quantile models fitted without the last calibrationWeeks and widened by a factor k
calibrated on those weeks. Everything times scale in the ONNX graph.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np

from .data import M5, load
from .feature_spec import FEATURE_COUNT, FEATURE_NAMES, HORIZONS, IDX, PRICE_FEATURES
from .features import date_of_day, day_index, features_dense

FIRST_TRAIN_ORIGIN = "2011-03-06"  # a Sunday, 5 weeks after the data starts
CATEGORICAL = ["store", "dept", "category", "state"]

RECIPE = {
    "sampleShare": 0.3,          # share of (series, origin) blocks kept per training origin
    "calibrationWeeks": 8,       # held-out origins before the cutoff for the interval factors
    "p50Blend": 1.0,             # p50 = b * L1 model + (1 - b) * tweedie model (1.0: L1 only)
    "common": {"learning_rate": 0.1, "num_leaves": 127, "min_data_in_leaf": 200, "feature_fraction": 0.8,
               "bagging_fraction": 0.7, "bagging_freq": 1, "lambda_l2": 1.0, "max_bin": 63,
               "num_threads": 2, "verbose": -1, "seed": 7},
    "models": {
        "p50_l1": {"objective": "quantile", "alpha": 0.5, "rounds": 200},
        "p50_tweedie": {"objective": "tweedie", "tweedie_variance_power": 1.2, "rounds": 200},
        "p10": {"objective": "quantile", "alpha": 0.1, "rounds": 120},
        "p90": {"objective": "quantile", "alpha": 0.9, "rounds": 120},
    },
}


def feature_columns(no_price: bool) -> list[int]:
    return [i for i, n in enumerate(FEATURE_NAMES) if not (no_price and n in PRICE_FEATURES)]


def build_rows(m: M5, origins: list[int], train_until: int, share: float, seed: int):
    """X float32 [n, F], y (units), scale, origin, horizon for targets <= train_until."""
    rng = np.random.default_rng(seed)
    Xs, ys, os_ = [], [], []
    for o in origins:
        rows = np.where(m.ds.first <= o)[0]
        if share < 1:
            rows = rows[rng.random(len(rows)) < share]
        if len(rows) == 0:
            continue
        X = features_dense(m.ds, rows, o, m.calendar, m.codes)  # [n, H, F]
        hmax = min(HORIZONS, train_until - o)
        if hmax <= 0:
            continue
        y = m.ds.sales[rows][:, o + 1 - m.ds.base: o + hmax + 1 - m.ds.base]
        Xs.append(X[:, :hmax].reshape(-1, FEATURE_COUNT))
        ys.append(y.reshape(-1))
        os_.append(np.full(len(rows) * hmax, o, dtype=np.int32))
    X = np.concatenate(Xs)
    return X, np.concatenate(ys), np.concatenate(os_)


def fit_one(X, y, spec: dict, common: dict, cols: list[int], rounds: int | None = None):
    scale = X[:, IDX["scale"]].astype(np.float64)
    params = {**common, **{k: v for k, v in spec.items() if k != "rounds"}}
    names = [FEATURE_NAMES[i] for i in cols]
    cat = [n for n in CATEGORICAL if n in names]
    ds = lgb.Dataset(X[:, cols], label=y / scale, weight=scale, feature_name=names, categorical_feature=cat,
                     free_raw_data=False)
    return lgb.train(params, ds, num_boost_round=rounds or spec["rounds"])


def predict_norm(booster, X, cols):
    return booster.predict(X[:, cols], num_threads=2)


def calibrate_factors(p10, p50, p90, y, target=0.80):
    """Widening factors k (same for both sides): lo = p50 - k (p50 - p10), hi = p50 + k (p90 - p50),
    the smallest k on a grid whose coverage reaches `target` on the held-out rows."""
    best = 1.0
    for k in np.arange(0.5, 2.51, 0.02):
        lo = np.maximum(p50 - k * (p50 - p10), 0)
        hi = p50 + k * (p90 - p50)
        cov = np.mean((y >= lo) & (y <= hi))
        best = float(k)
        if cov >= target:
            break
    return round(best, 2)


def combine(preds: dict, scale: np.ndarray, recipe: dict, k: float) -> np.ndarray:
    """Normalised model outputs -> [n, 3] p10, p50, p90 in units, as the ONNX graph computes them."""
    b = recipe["p50Blend"]
    p50n = b * preds["p50_l1"] + (1 - b) * preds["p50_tweedie"]
    p10n = p50n - k * (p50n - preds["p10"])
    p90n = p50n + k * (preds["p90"] - p50n)
    q = np.stack([p10n, p50n, p90n], axis=1) * scale[:, None]
    q = np.maximum(q, 0)
    q[:, 1] = np.maximum(q[:, 1], q[:, 0])
    q[:, 2] = np.maximum(q[:, 2], q[:, 1])
    return q


def _used(recipe: dict) -> list[str]:
    b = recipe["p50Blend"]
    return [n for n in recipe["models"] if not (n == "p50_tweedie" and b == 1 or n == "p50_l1" and b == 0)]


def train_all(m: M5, train_until: int, no_price: bool, recipe: dict = RECIPE, log=print):
    """p50 model(s) on every row with target <= train_until; p10/p90 on the rows with target
    <= train_until - 7 * calibrationWeeks, widened by k calibrated on the origins of those
    last weeks (split conformal on the interval half-widths)."""
    cols = feature_columns(no_price)
    origins = list(range(day_index(FIRST_TRAIN_ORIGIN), train_until, 7))
    t0 = time.time()
    X, y, org = build_rows(m, origins, train_until, recipe["sampleShare"], seed=1)
    log(f"rows {len(y):,} from {len(origins)} origins ({time.time() - t0:.0f}s)")
    cal_cut = train_until - 7 * recipe["calibrationWeeks"]
    fit_mask = org + X[:, IDX["horizon"]].astype(np.int64) <= cal_cut
    cal_mask = org >= cal_cut
    models, times = {}, {}
    for name in _used(recipe):
        t1 = time.time()
        mask = fit_mask if name in ("p10", "p90") else slice(None)
        models[name] = fit_one(X[mask], y[mask], recipe["models"][name], recipe["common"], cols)
        times[name] = round(time.time() - t1, 1)
        log(f"  fit {name}: {times[name]}s")
    trained = {"models": models, "k": 1.0, "cols": cols, "trainRows": int(len(y)), "fitSeconds": times,
               "origins": [origins[0], origins[-1]]}
    q = predict_units(trained, X[cal_mask], recipe)
    yc = y[cal_mask]
    raw_cov = float(np.mean((yc >= q[:, 0]) & (yc <= q[:, 2])))
    trained["k"] = calibrate_factors(q[:, 0], q[:, 1], q[:, 2], yc)
    trained["rawCalibrationCoverage"] = raw_cov
    log(f"interval factor k={trained['k']} (raw held-out coverage {raw_cov:.3f}, {int(cal_mask.sum()):,} rows)")
    trained["trainSeconds"] = round(time.time() - t0, 1)
    pick = np.sort(np.random.default_rng(0).choice(len(X), min(len(X), 200000), replace=False))
    trained["X_sample"] = X[pick]  # for the parity check and the reference distribution
    return trained


def predict_units(trained: dict, X: np.ndarray, recipe: dict = RECIPE) -> np.ndarray:
    preds = {n: predict_norm(b, X, trained["cols"]) for n, b in trained["models"].items()}
    if "p50_l1" not in preds:
        preds["p50_l1"] = preds["p50_tweedie"]
    preds.setdefault("p50_tweedie", preds["p50_l1"])
    return combine(preds, X[:, IDX["scale"]].astype(np.float64), recipe, trained["k"])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--train-until", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--no-price-features", action="store_true")
    ap.add_argument("--evaluate", action="store_true", help="also score the dev window (honest only if "
                    "--train-until <= 2013-06-30)")
    ap.add_argument("--save-boosters", help="also write the LightGBM models (text) to this folder")
    a = ap.parse_args(argv)
    from .export import export_artifact
    m = load(a.data)
    until = day_index(a.train_until)
    trained = train_all(m, until, a.no_price_features)
    if a.save_boosters:
        Path(a.save_boosters).mkdir(parents=True, exist_ok=True)
        for n, b in trained["models"].items():
            b.save_model(str(Path(a.save_boosters) / f"{n}.txt"))
        json.dump({"k": trained["k"]}, open(Path(a.save_boosters) / "k.json", "w"))
    metrics = None
    if a.evaluate:
        from .evaluate import evaluate_dev
        metrics = evaluate_dev(m, lambda X: predict_units(trained, X))
        print(json.dumps(metrics, indent=1))
    export_artifact(m, trained, RECIPE, a.train_until, Path(a.out_dir), no_price=a.no_price_features,
                    metrics=metrics)


if __name__ == "__main__":
    main()
