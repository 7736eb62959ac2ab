"""Buckets and holidays with Python's datetime (independent of the TypeScript integer
arithmetic in src/inference/features/civil-days.ts, so the shared vectors check both).

Week buckets end on Friday (Walmart): week w covers days 7w+2 .. 7w+8 since 1970-01-01.
"""
from __future__ import annotations

import datetime as dt

EPOCH = dt.date(1970, 1, 1)
DAY_MS = 86_400_000


def day_index(d: dt.date) -> int:
    return (d - EPOCH).days


def date_of_day(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=day)


def bucket_of_day(day: int, size: str) -> int:
    return day if size == "day" else (day - 2) // 7


def bucket_first_day(bucket: int, size: str) -> int:
    return bucket if size == "day" else bucket * 7 + 2


def bucket_days(size: str) -> int:
    return 1 if size == "day" else 7


def bucket_start_ms(bucket: int, size: str) -> int:
    return bucket_first_day(bucket, size) * DAY_MS


def bucket_end_ms(bucket: int, size: str) -> int:
    return bucket_start_ms(bucket + 1, size)


def label_date(bucket: int, size: str) -> dt.date:
    """The day itself, or the week's Friday."""
    return date_of_day(bucket_first_day(bucket, size) + bucket_days(size) - 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """n-th (1-based) given weekday (Monday=0) of a month."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def holiday_dates(year: int) -> list[dt.date]:
    return [
        _nth_weekday(year, 2, 6, 2 if year >= 2022 else 1),  # Super Bowl Sunday
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        dt.date(year, 12, 25),  # Christmas Day
    ]


def is_holiday_bucket(bucket: int, size: str) -> bool:
    first = date_of_day(bucket_first_day(bucket, size))
    last = first + dt.timedelta(days=bucket_days(size) - 1)
    for year in {first.year, last.year}:
        if any(first <= h <= last for h in holiday_dates(year)):
            return True
    return False


def woy_angle(bucket: int, size: str) -> float:
    """Angle (radians) of the label date's 0-based day of year over 365.25 days."""
    import math

    d = label_date(bucket, size)
    return 2 * math.pi * (d.timetuple().tm_yday - 1) / 365.25
