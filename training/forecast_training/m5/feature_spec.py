"""Feature spec of the M5 daily SKU model (docs/features-m5-daily.md).

Integers and strings only; the hash is sha256 of the canonical JSON (sorted keys, no
whitespace). Fractional constants are stored as integers of a named unit (milli = 1/1000).
"""
from __future__ import annotations

import hashlib
import json

SPEC_VERSION = 2
HORIZONS = 28
LOOKBACK = 400

MEAN_WINDOWS = [7, 14, 28, 112, 364]
LAGS = 7
SAME_WEEKDAY_COUNTS = [4, 12]
EVENT_TYPES = ["Cultural", "National", "Religious", "Sporting"]
PRICE_FEATURES = ["log_price", "price_depth_56", "price_rel_origin", "price_rel_max_364"]
# v2: event names (calendar.csv event_name_1, sorted); the code of a day's first event is 1 + its index here, 0 = none
EVENT_NAMES = ["Chanukah End", "Christmas", "Cinco De Mayo", "ColumbusDay", "Easter", "Eid al-Fitr", "EidAlAdha",
               "Father's day", "Halloween", "IndependenceDay", "LaborDay", "LentStart", "LentWeek2",
               "MartinLutherKingDay", "MemorialDay", "Mother's day", "NBAFinalsEnd", "NBAFinalsStart", "NewYear",
               "OrthodoxChristmas", "OrthodoxEaster", "Pesach End", "PresidentsDay", "Purim End", "Ramadan starts",
               "StPatricksDay", "SuperBowl", "Thanksgiving", "ValentinesDay", "VeteransDay"]
EWM_ALPHAS_MILLI = [100, 300]
V2_FEATURES = (["event_id", "event_id_prev", "event_id_next", "days_to_xmas"]
               + [f"ewm_{a // 10}" for a in EWM_ALPHAS_MILLI] + ["std_28", "max_28", "nz_mean_28", "ly_base"])

FEATURE_NAMES: list[str] = (
    ["horizon", "weekday", "day_of_month", "month", "scale"]
    + [f"lag_{k}" for k in range(1, LAGS + 1)]
    + [f"mean_{w}" for w in MEAN_WINDOWS]
    + ["seasonal_naive", "same_weekday_4", "same_weekday_12", "last_year_7"]
    + ["age", "days_since_sale", "zero_share_28"]
    + PRICE_FEATURES
    + [f"event_{t.lower()}" for t in EVENT_TYPES]
    + ["snap", "days_to_event"]
    + ["store", "dept", "category", "state"]
    + V2_FEATURES
)
FEATURE_COUNT = len(FEATURE_NAMES)
IDX = {n: i for i, n in enumerate(FEATURE_NAMES)}

FEATURE_SPEC = {
    "family": "m5-daily",
    "version": SPEC_VERSION,
    "names": FEATURE_NAMES,
    "horizons": HORIZONS,
    "lookback": LOOKBACK,
    "dayIndex": "days since 1970-01-01 UTC",
    "weekday": "(day + 3) mod 7, 0 = Monday",
    "lags": LAGS,
    "meanWindows": MEAN_WINDOWS,
    "scaleWindow": 56,
    "scaleFloorMilli": 100,
    "sameWeekdayCounts": SAME_WEEKDAY_COUNTS,
    "lastYearOffset": 364,
    "lastYearHalfWidth": 3,
    "lastYearMissing": -1,
    "ageCap": LOOKBACK,
    "daysSinceSaleCap": LOOKBACK,
    "priceDepthWindow": 56,
    "priceRefWindow": 364,
    "priceMissing": -1,
    "logPriceMissing": -10,
    "eventTypes": EVENT_TYPES,
    "daysToEventCap": 7,
    "categoricals": ["store", "dept", "category", "state"],
    "categoricalUnknown": -1,
    # v2 (bench/results/m5-daily-study.md, v3 section)
    "eventNames": EVENT_NAMES,
    "eventIdNone": 0,
    "xmasClip": 14,
    "ewmAlphasMilli": EWM_ALPHAS_MILLI,
    "recentWindow": 28,
    "lyBaseFrom": 364,
    "lyBaseTo": 391,
    "lyBaseMissing": -1,
}


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def feature_spec_hash(spec: object = FEATURE_SPEC) -> str:
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


FEATURE_SPEC_HASH = feature_spec_hash()
