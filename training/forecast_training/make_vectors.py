"""Writes test/vectors/features.json: raw snapshots -> expected feature vectors.

The expected vectors come from this (numpy/datetime) implementation; the TypeScript tests
check src/inference/features against them and training/tests check this module against
them, so a change on either side without the other fails a test.

Usage: python -m forecast_training.make_vectors [--out PATH] [--fixture DIR]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np

from .calendar_buckets import DAY_MS, bucket_of_day, bucket_start_ms, day_index, label_date
from .feature_spec import FEATURE_NAMES, FEATURE_SPEC, FEATURE_SPEC_HASH
from .features import build_features, features_from_snapshot
from .walmart import load_walmart

ROOT = Path(__file__).resolve().parents[2]


def _bucket(date: str, size: str) -> int:
    return bucket_of_day(day_index(dt.date.fromisoformat(date)), size)


def _snapshot(rng: np.random.Generator, origin: int, size: str, n_hist: int, *, neg: bool = False,
              sparse: float = 0.1, level: float = 1000.0, n_promos: int = 3, weather: bool = True) -> dict:
    sales = []
    for b in range(origin - n_hist + 1, origin + 1):
        if rng.random() < sparse:
            continue
        v = float(np.round(rng.gamma(2.0, level / 2.0), 2))
        if neg and rng.random() < 0.2:
            v = -v / 10
        sales.append([b, v])
    start0 = bucket_start_ms(origin - 3, size)
    span = bucket_start_ms(origin + 8, size) - start0
    promos = []
    for i in range(n_promos):
        a = start0 + int(rng.integers(0, span))
        length = int(rng.integers(3_600_000, 3 * bucket_start_ms(1, "week")))
        promos.append({
            "promotionId": f"p{i}",
            "startMs": a,
            "endMs": a + length,
            "depth": float(np.round(rng.random() * 0.5, 3)) if rng.random() < 0.6 else 0.0,
            "markdown": float(np.round(rng.random() * 20000, 2)) if rng.random() < 0.7 else 0.0,
        })
    wx = []
    if weather:
        for b in range(origin - 2, origin + 6):
            r = rng.random()
            wx.append([b, {
                "temperatureC": None if r < 0.2 else float(np.round(rng.normal(12, 12), 1)),
                "precipitationMm": None if r > 0.6 else float(np.round(rng.exponential(4), 1)),
            }])
    return {
        "seriesId": "s-1", "store": "s", "item": "1", "category": "1", "region": "all",
        "sales": sales,
        "lastSalesBucket": max((b for b, _ in sales), default=None),
        "promotions": promos,
        "weather": wx,
    }


def synthetic_cases() -> list[dict]:
    rng = np.random.default_rng(20140101)
    specs = [
        ("week, long history, Christmas 2010 across the year end", "2010-12-17", "week", dict(n_hist=110)),
        ("week, Thanksgiving 2011", "2011-11-11", "week", dict(n_hist=80, level=30000)),
        ("week, Super Bowl on the second Sunday (2022)", "2022-01-28", "week", dict(n_hist=60)),
        ("week, Super Bowl on the first Sunday (2021)", "2021-01-22", "week", dict(n_hist=60)),
        ("week, Labor Day 2012", "2012-08-17", "week", dict(n_hist=70, neg=True)),
        ("week, short history below the scale floor", "2013-03-01", "week", dict(n_hist=4, level=0.5)),
        ("week, returns (negative sales), sparse", "2012-05-04", "week", dict(n_hist=60, neg=True, sparse=0.5)),
        ("week, no sales at all", "2012-06-01", "week", dict(n_hist=0, weather=False, n_promos=0)),
        ("day, Thanksgiving 2023", "2023-11-20", "day", dict(n_hist=70)),
        ("day, Christmas 2024", "2024-12-22", "day", dict(n_hist=30, neg=True)),
        ("day, Labor Day 2025, no weather", "2025-08-30", "day", dict(n_hist=400, weather=False)),
        ("day, leap day", "2024-02-27", "day", dict(n_hist=60)),
    ]
    cases = []
    for name, date, size, kw in specs:
        origin = _bucket(date, size)
        snap = _snapshot(rng, origin, size, **kw)
        cases.append({"name": name, "bucketSize": size, "origin": origin,
                      "originLabel": label_date(origin, size).isoformat(), "snapshot": snap})
    for i in range(12):
        size = "week" if i % 2 == 0 else "day"
        day = int(rng.integers(day_index(dt.date(2009, 1, 1)), day_index(dt.date(2030, 12, 31))))
        origin = bucket_of_day(day, size)
        snap = _snapshot(rng, origin, size, n_hist=int(rng.integers(1, 130)), neg=bool(i % 3 == 0),
                         level=float(10 ** rng.uniform(0, 5)), n_promos=int(rng.integers(0, 6)))
        cases.append({"name": f"random {i}", "bucketSize": size, "origin": origin,
                      "originLabel": label_date(origin, size).isoformat(), "snapshot": snap})
    for c in cases:
        c["expected"] = [float(v) for v in features_from_snapshot(c["snapshot"], c["origin"], c["bucketSize"])]
    return cases


def walmart_cases(fixture: Path) -> dict:
    """Features of the fixture's series at a few origins, through the Walmart mapping."""
    data = load_walmart(fixture)
    origins = ["2011-02-04", "2011-11-18", "2011-12-23", "2012-03-30"]
    out = []
    for date in origins:
        origin = _bucket(date, "week")
        rows = np.arange(len(data.series_ids))
        x = build_features(data.dense, rows, np.full(len(rows), origin))
        for i, sid in enumerate(data.series_ids):
            out.append({"seriesId": sid, "originDate": date, "origin": origin,
                        "expected": [float(v) for v in x[i]]})
    return {"dataDir": str(fixture.relative_to(ROOT)), "cases": out}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "test/vectors/features.json"))
    ap.add_argument("--fixture", default=str(ROOT / "test/fixtures/walmart-mini"))
    args = ap.parse_args()
    doc = {
        "about": "Generated by training/forecast_training/make_vectors.py; checked by test/unit/inference/"
                 "features-vectors.test.ts and training/tests/test_features.py. Do not edit by hand.",
        "specHash": FEATURE_SPEC_HASH,
        "spec": FEATURE_SPEC,
        "names": FEATURE_NAMES,
        "tolerance": {"abs": 1e-5, "rel": 1e-5},
        "cases": synthetic_cases(),
        "walmart": walmart_cases(Path(args.fixture).resolve()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}: {len(doc['cases'])} snapshot cases, {len(doc['walmart']['cases'])} walmart cases")


if __name__ == "__main__":
    main()
