"""Feature builder of docs/features.md, vectorised over many (series, origin) rows.

One implementation serves both uses: training feeds dense per-series arrays built from the
Walmart CSVs; the shared-vector tests turn a raw snapshot (the JSON form of the TypeScript
SeriesSnapshot) into the same dense arrays. Values are computed in float64 and rounded to
float32 once, like the TypeScript builder.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calendar_buckets import bucket_end_ms, bucket_start_ms, is_holiday_bucket, woy_angle
from .feature_spec import FEATURE_COUNT, FEATURE_HORIZONS, FEATURE_SPEC, IDX

H = FEATURE_HORIZONS


@dataclass
class DenseSeries:
    """Per-bucket arrays on the grid `first_bucket + i`.

    sales: [n_series, n_buckets] (0 where absent); exog arrays: [n_series, n_buckets] with
    markdown sum, max depth, temperature °C (NaN unknown), precipitation mm (NaN unknown)
    of the promotions/weather covering each bucket.
    """

    first_bucket: int
    size: str
    sales: np.ndarray
    markdown: np.ndarray
    depth: np.ndarray
    temperature: np.ndarray
    precipitation: np.ndarray


def build_features(ds: DenseSeries, rows: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Features [n, FEATURE_COUNT] float32 for (series row, origin bucket) pairs.

    The grid must cover origin-52 .. origin+4 (buckets before the grid read as 0) for every origin (callers pad with zeros).
    """
    rows = np.asarray(rows, dtype=np.int64)
    origins = np.asarray(origins, dtype=np.int64)
    o = origins - ds.first_bucket
    if (o - 52 < -1).any() or (o + H >= ds.sales.shape[1]).any():
        raise ValueError("dense grid does not cover origin-51 .. origin+4")
    n = len(rows)
    x = np.zeros((n, FEATURE_COUNT), dtype=np.float64)
    y = ds.sales

    window = FEATURE_SPEC["scaleWindow"]
    # Cumulative |y| gives every 52-bucket window sum at once.
    cum = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(np.abs(y), axis=1)], axis=1)
    lo = np.maximum(o - window + 1, 0)
    s = np.maximum(FEATURE_SPEC["scaleFloor"], (cum[rows, o + 1] - cum[rows, lo]) / window)

    def at(offset: np.ndarray) -> np.ndarray:
        ok = offset >= 0
        return np.where(ok, y[rows, np.maximum(offset, 0)], 0.0)

    for k in range(FEATURE_SPEC["lags"]):
        x[:, IDX["lag_0"] + k] = at(o - k) / s
    season = FEATURE_SPEC["seasonLength"][ds.size]
    for j in range(6):
        x[:, IDX["seasonal_m1"] + j] = at(o - season + j) / s
    for k in FEATURE_SPEC["lastYearLags"]:
        x[:, IDX[f"ly_lag_{k}"]] = at(o - season - k) / s
    x[:, IDX["log_scale"]] = np.log(s)
    x[:, IDX["mean_4_over_52"]] = (at(o) + at(o - 1) + at(o - 2) + at(o - 3)) / 4 / s

    for h in range(1, H + 1):
        b = o + h
        x[:, IDX[f"markdown_h{h}"]] = np.log1p(ds.markdown[rows, b] / FEATURE_SPEC["markdownDivisor"])
        x[:, IDX[f"depth_h{h}"]] = ds.depth[rows, b]
        t = ds.temperature[rows, b]
        x[:, IDX[f"temp_h{h}"]] = np.where(
            np.isnan(t), 0.0, (t - FEATURE_SPEC["temperatureCenterC"]) / FEATURE_SPEC["temperatureScaleC"]
        )
        p = ds.precipitation[rows, b]
        x[:, IDX[f"precip_h{h}"]] = np.where(np.isnan(p), 0.0, np.log1p(np.where(np.isnan(p), 0.0, p)))

    # Calendar features depend on the origin only: compute once per distinct origin.
    for org in np.unique(origins):
        sel = origins == org
        for h in range(1, H + 1):
            x[sel, IDX[f"holiday_h{h}"]] = 1.0 if is_holiday_bucket(int(org) + h, ds.size) else 0.0
        a = woy_angle(int(org) + 1, ds.size)
        x[sel, IDX["woy_sin"]] = np.sin(a)
        x[sel, IDX["woy_cos"]] = np.cos(a)
    return x.astype(np.float32)


def dense_from_snapshot(snapshot: dict, origin: int, size: str) -> DenseSeries:
    """One-row dense arrays from the JSON form of a SeriesSnapshot (the test-vector format)."""
    first = origin - 60
    n = 60 + H + 2
    sales = np.zeros((1, n))
    for bucket, value in snapshot["sales"]:
        if first <= bucket < first + n:
            sales[0, bucket - first] = value
    markdown = np.zeros((1, n))
    depth = np.zeros((1, n))
    temperature = np.full((1, n), np.nan)
    precipitation = np.full((1, n), np.nan)
    for i in range(n):
        b = first + i
        start, end = bucket_start_ms(b, size), bucket_end_ms(b, size)
        for p in snapshot["promotions"]:
            if p["startMs"] < end and p["endMs"] > start:
                markdown[0, i] += p["markdown"]
                depth[0, i] = max(depth[0, i], p["depth"])
    for bucket, w in snapshot["weather"]:
        if first <= bucket < first + n:
            if w.get("temperatureC") is not None:
                temperature[0, bucket - first] = w["temperatureC"]
            if w.get("precipitationMm") is not None:
                precipitation[0, bucket - first] = w["precipitationMm"]
    return DenseSeries(first, size, sales, markdown, depth, temperature, precipitation)


def features_from_snapshot(snapshot: dict, origin: int, size: str) -> np.ndarray:
    ds = dense_from_snapshot(snapshot, origin, size)
    return build_features(ds, np.array([0]), np.array([origin]))[0]
