"""Holiday weeks against Walmart's own IsHoliday flags, and the week-bucket convention."""
import datetime as dt
from pathlib import Path

import numpy as np

from forecast_training.calendar_buckets import bucket_of_day, day_index, is_holiday_bucket, label_date
from forecast_training.walmart import load_walmart

ROOT = Path(__file__).resolve().parents[2]


def test_friday_labels_its_own_week():
    for d in ["2010-02-05", "2011-12-30", "2012-04-27"]:
        b = bucket_of_day(day_index(dt.date.fromisoformat(d)), "week")
        assert label_date(b, "week").isoformat() == d


def test_holiday_weeks_match_walmart_is_holiday():
    data = load_walmart(ROOT / "test/fixtures/walmart-mini")
    weeks = np.flatnonzero(data.has_row.any(axis=0)) + data.dense.first_bucket
    flagged = [bool(data.holiday[w - data.dense.first_bucket]) for w in weeks]
    computed = [is_holiday_bucket(int(w), "week") for w in weeks]
    assert sum(flagged) >= 8
    assert computed == flagged


def test_super_bowl_moves_to_the_second_sunday_in_2022():
    assert is_holiday_bucket(day_index(dt.date(2022, 2, 13)), "day")
    assert not is_holiday_bucket(day_index(dt.date(2022, 2, 6)), "day")
    assert is_holiday_bucket(day_index(dt.date(2021, 2, 7)), "day")
