"""The feature spec (docs/features.md), mirrored from src/inference/features/feature-spec.ts.

Both sides hash the canonical JSON of this object (sorted keys, no whitespace, integers
and strings only) with sha256; test/vectors/features.json carries the hash, and the tests
of both languages compare against it.
"""
from __future__ import annotations

import hashlib
import json

FEATURE_SPEC_VERSION = 2
FEATURE_HORIZONS = 4


def _per_horizon(prefix: str) -> list[str]:
    return [f"{prefix}_h{h}" for h in range(1, FEATURE_HORIZONS + 1)]


FEATURE_NAMES: list[str] = (
    [f"lag_{k}" for k in range(8)]
    + ["seasonal_m1", "seasonal_0", "seasonal_p1", "seasonal_p2", "seasonal_p3", "seasonal_p4"]
    + ["log_scale", "mean_4_over_52"]
    + _per_horizon("markdown")
    + _per_horizon("depth")
    + _per_horizon("temp")
    + _per_horizon("precip")
    + _per_horizon("holiday")
    + ["woy_sin", "woy_cos"]
    + [f"ly_lag_{k}" for k in range(1, 8)]
)
FEATURE_COUNT = len(FEATURE_NAMES)
IDX = {name: i for i, name in enumerate(FEATURE_NAMES)}

FEATURE_SPEC = {
    "version": FEATURE_SPEC_VERSION,
    "horizons": FEATURE_HORIZONS,
    "names": FEATURE_NAMES,
    "lags": 8,
    "seasonalOffsets": [-1, 0, 1, 2, 3, 4],
    "lastYearLags": [1, 2, 3, 4, 5, 6, 7],
    "seasonLength": {"day": 7, "week": 52},
    "scaleWindow": 52,
    "scaleFloor": 1,
    "markdownDivisor": 1000,
    "temperatureCenterC": 15,
    "temperatureScaleC": 10,
    "holidays": ["super_bowl", "labor_day", "thanksgiving", "christmas"],
    "superBowlSecondSundayFrom": 2022,
}


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def feature_spec_hash(spec: object = FEATURE_SPEC) -> str:
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


FEATURE_SPEC_HASH = feature_spec_hash()
