"""Python side of the M5 daily feature-parity contract: test/vectors/features-m5-daily.json
(to be checked by the TypeScript builder too). numpy + pytest only."""
import copy
import json
from pathlib import Path

import numpy as np
import pytest

from forecast_training.m5.feature_spec import (FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC, FEATURE_SPEC_HASH,
                                               canonical_json, feature_spec_hash)
from forecast_training.m5.features import Calendar, dense_from_snapshot, features_dense, features_from_snapshot

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "test/vectors/features-m5-daily.json").read_text())
CALENDAR = Calendar(json.loads((ROOT / VECTORS["calendarFile"]).read_text()))
CODES = VECTORS["codes"]
CASES = VECTORS["cases"]


def _only_ints_and_strings(v):
    if isinstance(v, dict):
        return all(isinstance(k, str) and _only_ints_and_strings(x) for k, x in v.items())
    if isinstance(v, list):
        return all(_only_ints_and_strings(x) for x in v)
    return isinstance(v, (int, str)) and not isinstance(v, bool)


def test_spec_hash_and_names():
    assert _only_ints_and_strings(FEATURE_SPEC)
    assert FEATURE_SPEC["family"] == "m5-daily" and FEATURE_SPEC["horizons"] == 28 and FEATURE_SPEC["lookback"] == 400
    assert FEATURE_SPEC_HASH == feature_spec_hash() == __import__("hashlib").sha256(
        json.dumps(FEATURE_SPEC, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert VECTORS["specHash"] == FEATURE_SPEC_HASH
    assert VECTORS["specVersion"] == FEATURE_SPEC["version"]
    assert VECTORS["names"] == FEATURE_NAMES == FEATURE_SPEC["names"]
    assert len(FEATURE_NAMES) == FEATURE_COUNT <= 50


def test_canonical_json():
    assert canonical_json({"b": [1, "x"], "a": {"d": 1, "c": 2}}) == '{"a":{"c":2,"d":1},"b":[1,"x"]}'


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reference_function_matches_vectors(case):
    got = features_from_snapshot(case["snapshot"], case["origin"], CALENDAR, CODES)
    exp = np.array(case["expected"], dtype=np.float32)
    assert got.dtype == np.float32 and got.shape == (28, FEATURE_COUNT)
    np.testing.assert_array_equal(got, exp)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vectorised_path_matches_reference(case):
    ds, rows = dense_from_snapshot(case["snapshot"], case["origin"], CALENDAR)
    got = features_dense(ds, rows, case["origin"], CALENDAR, CODES)[0]
    np.testing.assert_array_equal(got, np.array(case["expected"], dtype=np.float32))


def test_future_sales_and_out_of_window_sales_are_ignored():
    case = CASES[0]
    o = case["origin"]
    snap = copy.deepcopy(case["snapshot"])
    snap["sales"] = snap["sales"] + [[o + k, 1e6] for k in range(1, 40)] + [[o - 400 - k, 1e6] for k in range(0, 30)]
    got = features_from_snapshot(snap, o, CALENDAR, CODES)
    np.testing.assert_array_equal(got, np.array(case["expected"], dtype=np.float32))


def test_edge_cases_are_covered():
    names = " | ".join(c["name"] for c in CASES)
    for word in ("new series", "no price", "price cut", "Thanksgiving", "zero", "no sale yet"):
        assert word in names
    assert len(CASES) >= 10
    for c in CASES:
        assert np.all(np.isfinite(np.array(c["expected"])))
