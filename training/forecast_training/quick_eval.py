"""A numpy twin of the evaluate protocol, for tuning during training only.

The reported numbers come from `forecast-stream evaluate` (TypeScript, production feature
code, the exported ONNX file); this exists so a hyperparameter sweep needs no export.
"""
from __future__ import annotations

import numpy as np

from .dataset import HOLIDAY_WEIGHT
from .features import H, build_features
from .quantile_mlp import MlpParams, forward
from .walmart import WalmartData


def window_pairs(data: WalmartData, first_target: int, last_target: int):
    n_series = len(data.series_ids)
    origins = np.arange(first_target - H, last_target)
    rows = np.repeat(np.arange(n_series), len(origins))
    orig = np.tile(origins, n_series)
    return rows, orig


def evaluate_window(p: MlpParams, data: WalmartData, first_target: int, last_target: int) -> dict:
    rows, orig = window_pairs(data, first_target, last_target)
    x = build_features(data.dense, rows, orig)
    s = np.exp(x[:, 14].astype(np.float64))
    q = forward(p, x.astype(np.float64)) * s[:, None, None]
    num = den = base = cover = 0.0
    pairs = 0
    per_h = []
    for h in range(1, H + 1):
        t = orig + h
        b = t - data.dense.first_bucket
        ok = data.has_row[rows, b] & (t >= first_target) & (t <= last_target)
        actual = data.dense.sales[rows, b]
        sb = b - 52
        snaive = np.where(data.has_row[rows, sb], data.dense.sales[rows, sb], 0.0)
        w = np.where(data.holiday[b], HOLIDAY_WEIGHT, 1.0) * ok
        err = np.abs(actual - q[:, h - 1, 1])
        num += (w * err).sum()
        base += (w * np.abs(actual - snaive)).sum()
        den += w.sum()
        cover += (ok & (actual >= q[:, h - 1, 0]) & (actual <= q[:, h - 1, 2])).sum()
        pairs += ok.sum()
        per_h.append((w * err).sum() / w.sum())
    return {"wmae": num / den, "snaive": base / den, "ratio": num / base, "coverage": cover / pairs,
            "pairs": int(pairs), "wmae_per_h": per_h}
