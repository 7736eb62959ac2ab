"""Training rows: (series, origin) pairs with the production features and normalised targets."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import H, build_features
from .feature_spec import IDX
from .walmart import WalmartData

HOLIDAY_WEIGHT = 5.0  # the competition's WMAE weight for IsHoliday weeks


@dataclass
class TrainingRows:
    x: np.ndarray  # [n, 38] float32 features
    target: np.ndarray  # [n, H] float32 sales / s (0 where masked)
    weight: np.ndarray  # [n, H] float32 loss weight (0 where no actual row)
    scale: np.ndarray  # [n] float32 s
    origin: np.ndarray  # [n] origin buckets


def build_rows(data: WalmartData, first_origin: int, last_target: int, scale_power: float) -> TrainingRows:
    """Every (series, origin) with first_origin <= origin and at least one target <= last_target.

    Only sales <= origin enter the features (the builder reads nothing later); targets
    after `last_target` are masked, so nothing after the training window is learned.
    """
    n_series = len(data.series_ids)
    origins = np.arange(first_origin, last_target)
    rows = np.repeat(np.arange(n_series), len(origins))
    orig = np.tile(origins, n_series)
    x = build_features(data.dense, rows, orig)
    scale = np.exp(x[:, IDX["log_scale"]].astype(np.float64))
    target = np.zeros((len(rows), H), dtype=np.float64)
    weight = np.zeros((len(rows), H), dtype=np.float64)
    for h in range(1, H + 1):
        b = data.bucket_index(0) + orig + h
        ok = data.has_row[rows, b] & (orig + h <= last_target)
        target[:, h - 1] = np.where(ok, data.dense.sales[rows, b], 0.0) / scale
        w = np.where(data.holiday[b], HOLIDAY_WEIGHT, 1.0) * scale**scale_power
        weight[:, h - 1] = np.where(ok, w, 0.0)
    keep = weight.sum(axis=1) > 0
    return TrainingRows(
        x=x[keep],
        target=target[keep].astype(np.float32),
        weight=weight[keep].astype(np.float32),
        scale=scale[keep].astype(np.float32),
        origin=orig[keep],
    )
