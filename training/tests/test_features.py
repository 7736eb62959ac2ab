"""Python side of the feature-parity contract: test/vectors/features.json (also checked by
test/unit/inference/features-vectors.test.ts against the TypeScript builder)."""
import json
from pathlib import Path

import numpy as np
import pytest

from forecast_training.feature_spec import FEATURE_NAMES, FEATURE_SPEC, FEATURE_SPEC_HASH, canonical_json
from forecast_training.features import build_features, features_from_snapshot
from forecast_training.walmart import load_walmart

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "test/vectors/features.json").read_text())


def test_spec_matches_the_vectors():
    assert VECTORS["names"] == FEATURE_NAMES
    assert VECTORS["spec"] == FEATURE_SPEC
    assert VECTORS["specHash"] == FEATURE_SPEC_HASH


def test_canonical_json_sorts_keys_without_spaces():
    assert canonical_json({"b": [1, "x"], "a": {"d": 1, "c": 2}}) == '{"a":{"c":2,"d":1},"b":[1,"x"]}'


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_snapshot_vectors(case):
    got = features_from_snapshot(case["snapshot"], case["origin"], case["bucketSize"])
    tol = VECTORS["tolerance"]
    np.testing.assert_allclose(got, np.array(case["expected"], dtype=np.float32), rtol=tol["rel"], atol=tol["abs"])


def test_walmart_fixture_vectors():
    w = VECTORS["walmart"]
    data = load_walmart(ROOT / w["dataDir"])
    index = {sid: i for i, sid in enumerate(data.series_ids)}
    rows = np.array([index[c["seriesId"]] for c in w["cases"]])
    origins = np.array([c["origin"] for c in w["cases"]])
    got = build_features(data.dense, rows, origins)
    expected = np.array([c["expected"] for c in w["cases"]], dtype=np.float32)
    np.testing.assert_allclose(got, expected, rtol=VECTORS["tolerance"]["rel"], atol=VECTORS["tolerance"]["abs"])


def test_features_never_read_sales_after_the_origin():
    w = VECTORS["walmart"]
    data = load_walmart(ROOT / w["dataDir"])
    origin = w["cases"][0]["origin"]
    rows = np.arange(len(data.series_ids))
    before = build_features(data.dense, rows, np.full(len(rows), origin))
    data.dense.sales[:, data.bucket_index(origin) + 1:] = 1e9  # poison the future
    after = build_features(data.dense, rows, np.full(len(rows), origin))
    np.testing.assert_array_equal(before, after)
