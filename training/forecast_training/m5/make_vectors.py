"""Writes test/vectors/features-m5-daily.json: parity vectors from the reference feature
function (features_from_snapshot) on real M5 snapshots and a few synthetic edge cases.

  python -m forecast_training.m5.make_vectors --data DIR [--out ../test/vectors/features-m5-daily.json]
"""
from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np

from .data import load, snapshot
from .feature_spec import FEATURE_NAMES, FEATURE_SPEC, FEATURE_SPEC_HASH, HORIZONS
from .features import day_index, features_from_snapshot

ROOT = Path(__file__).resolve().parents[3]
CALENDAR_FILE = "engines/m5-daily-gbm/2-2014-06-30/calendar.json"


def _find(m, pred, origin):
    for r in range(len(m.ids)):
        if pred(r, origin):
            return r
    raise LookupError("no series for case")


def cases(m) -> list[tuple[str, dict, int]]:
    ds, b = m.ds, m.ds.base
    out = []
    o = day_index("2013-06-30")
    busy = int(np.argmax(ds.sales[:, o - 55 - b: o + 1 - b].sum(axis=1)))
    out.append(("busy series, first dev origin", snapshot(m, busy, o), o))
    # a new series: first sale 1..6 days before the origin
    for r in np.argsort(ds.first):
        f = int(ds.first[r])
        if day_index("2012-01-01") < f < ds.NO_SALE:
            oo = f + 3
            out.append(("new series, 4 days of sales", snapshot(m, int(r), oo), oo))
            break
    # price cut starting inside the horizon
    o2 = day_index("2013-09-01")
    P = ds.price
    for r in range(len(m.ids)):
        if ds.first[r] <= o2 - 300:
            p0 = P[r, o2 - b]
            fut = P[r, o2 + 8 - b: o2 + 22 - b]
            if not np.isnan(p0) and np.nanmin(fut) <= 0.85 * p0 and ds.sales[r, o2 - 27 - b: o2 + 1 - b].sum() > 20:
                out.append(("price cut inside the horizon", snapshot(m, r, o2), o2))
                break
    # no price known: a real series with its price list removed
    s = snapshot(m, busy, o)
    s["prices"] = []
    out.append(("no price known", s, o))
    # origin just before Thanksgiving (event) and in SNAP days, a WI series
    o3 = day_index("2013-11-24")
    wi = next(r for r in range(len(m.ids)) if ds.state[r] == "WI" and ds.first[r] < o3 - 400
              and ds.sales[r, o3 - 27 - b: o3 + 1 - b].sum() > 10)
    out.append(("WI series, Thanksgiving and SNAP in the horizon", snapshot(m, wi, o3), o3))
    o4 = day_index("2013-12-15")
    tx = next(r for r in range(len(m.ids)) if ds.state[r] == "TX" and ds.category[r] == "HOUSEHOLD"
              and ds.first[r] < o4 - 400)
    out.append(("TX household series, Christmas in the horizon", snapshot(m, tx, o4), o4))
    # an intermittent series with a long zero run
    o5 = day_index("2014-03-02")
    dss = o5 - b - ds.last_pos[:, o5 - b]
    r = int(np.argmax(np.where((ds.first < o5 - 400) & (dss < 400), dss, -1)))
    out.append(("long run of zero sales", snapshot(m, r, o5), o5))
    # zero sales over the whole lookback but an old first sale (days_since_sale capped)
    s = snapshot(m, busy, o)
    s["sales"] = [[d, 0.0] for d, _ in s["sales"]]
    out.append(("all-zero lookback", s, o))
    # not sold yet: no firstSaleDay, no sales, a known price
    s = snapshot(m, busy, o)
    s["sales"], s["firstSaleDay"] = [], None
    out.append(("no sale yet", s, o))
    # last origin of the data, horizon beyond the sales
    o6 = day_index("2014-06-29")
    hob = next(r for r in range(len(m.ids)) if ds.category[r] == "HOBBIES" and ds.first[r] < o6 - 400)
    out.append(("hobbies series, last dev origin", snapshot(m, hob, o6), o6))
    # a series younger than the year: last-year feature missing for part of the horizon
    o7 = day_index("2013-10-06")
    young = next(r for r in range(len(m.ids)) if o7 - 380 < ds.first[r] < o7 - 340)
    out.append(("series about a year old", snapshot(m, int(young), o7), o7))
    # a Wednesday origin, a store/dept not in the codes
    o8 = day_index("2014-01-15")
    s = snapshot(m, busy, o8)
    s["store"], s["dept"], s["region"] = "XX_9", "NEW_DEPT", "ZZ"
    out.append(("Wednesday origin, unknown store / dept / region", s, o8))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default=str(ROOT / "test/vectors/features-m5-daily.json"))
    a = ap.parse_args(argv)
    m = load(a.data)
    items = []
    for name, snap, origin in cases(m):
        exp = features_from_snapshot(snap, origin, m.calendar, m.codes)
        assert exp.shape == (HORIZONS, len(FEATURE_NAMES))
        items.append({"name": name, "origin": int(origin), "snapshot": snap,
                      "expected": [[float(v) for v in row] for row in exp]})
    doc = {"family": FEATURE_SPEC["family"], "specVersion": FEATURE_SPEC["version"], "specHash": FEATURE_SPEC_HASH,
           "spec": FEATURE_SPEC, "names": FEATURE_NAMES, "calendarFile": CALENDAR_FILE, "codes": m.codes,
           "tolerance": {"abs": 1e-6, "rel": 1e-6},
           "note": "expected = float32 values of the reference function (written as the nearest float64)",
           "cases": items}
    Path(a.out).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {len(items)} cases to {a.out}")


if __name__ == "__main__":
    main()
