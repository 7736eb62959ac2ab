"""The stl-ses statistical component (walmart-stl): the reference reproduces the parity vectors
the TypeScript port is checked against, matches statsmodels' STL where statsmodels is installed,
and reads nothing after the origin."""
import json
from pathlib import Path

import numpy as np
import pytest

from forecast_training import stl_ses
from forecast_training.walmart_stl import COMPONENT, blend

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "test/vectors/stl-ses.json").read_text())


def history(case):
    sales = dict((int(b), v) for b, v in case["sales"])
    first = min(sales)
    return np.array([sales.get(b, 0.0) for b in range(first, case["origin"] + 1)])


def test_vectors_use_these_settings():
    assert VECTORS["component"] == COMPONENT


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"{c['seriesId']}@{c['origin']}")
def test_vectors(case):
    got = stl_ses.forecast(history(case), case["origin"], 4)
    if case["expected"] is None:
        assert np.isnan(got).all()
    else:
        scale = max(1.0, max(abs(v) for _, v in case["sales"]))
        np.testing.assert_allclose(got, case["expected"], rtol=0, atol=1e-9 * scale)


def test_stl_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    for n in (56, 88, 104, 117, 120):
        y = rng.normal(100, 30, n) + 50 * np.sin(np.arange(n) / 52 * 2 * np.pi)
        ref = sm.tsa.STL(y, period=52, seasonal=11, seasonal_deg=0).fit()
        season, trend = stl_ses.stl(y)
        np.testing.assert_allclose(season, ref.seasonal, atol=1e-9)
        np.testing.assert_allclose(trend, ref.trend, atol=1e-9)


def test_batch_equals_one_at_a_time():
    rng = np.random.default_rng(5)
    y = rng.normal(200, 50, (4, 90))
    batch = stl_ses.forecast_batch(y, 4, np.full(4, 2100))
    for i in range(4):
        np.testing.assert_allclose(batch[i], stl_ses.forecast(y[i], 2100, 4), atol=1e-9)


def test_calendar_shift():
    from forecast_training.train import week_of
    assert stl_ses.calendar_shift(week_of("2011-12-30")) == 1  # 2010-12-31 ends a day after 2010-12-30
    assert stl_ses.calendar_shift(week_of("2012-02-24")) == 1
    assert stl_ses.calendar_shift(week_of("2012-03-02")) == 2  # across 29 February 2012
    assert stl_ses.calendar_shift(week_of("2013-03-01")) == 1


def test_no_sales_after_the_origin_are_read():
    rng = np.random.default_rng(9)
    sales = rng.normal(100, 10, (2, 130))
    first = np.array([0, 20])
    rows, origins = np.array([0, 1]), np.array([100, 100])
    a = stl_ses.forecast_pairs(sales, first, rows, origins)
    sales[:, 101:] = 1e9
    np.testing.assert_array_equal(a, stl_ses.forecast_pairs(sales, first, rows, origins))


def test_blend_is_ordered_and_non_negative():
    rng = np.random.default_rng(11)
    q50 = rng.uniform(0, 100, (50, 4))
    q = np.stack([np.maximum(q50 - rng.uniform(0, 50, (50, 4)), 0), q50, q50 + rng.uniform(0, 50, (50, 4))], axis=2)
    stat = rng.normal(0, 150, (50, 4))
    stat[:5] = np.nan
    out = blend(q, stat, 0.9, 1.3)
    assert (out >= 0).all() and (out[:, :, 0] <= out[:, :, 1]).all() and (out[:, :, 1] <= out[:, :, 2]).all()
    np.testing.assert_allclose(out[:5, :, 1], q50[:5])
