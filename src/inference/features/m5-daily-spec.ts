/**
 * The feature spec of the daily SKU family `m5-daily` (docs/features-m5-daily.md). The
 * same object lives in training/forecast_training/m5/feature_spec.py; both hash its
 * canonical JSON, and test/vectors/features-m5-daily.json carries the hash, so a drift
 * fails a test in both languages. Integers and strings only (0.1 is `scaleFloorMilli` 100).
 */
import { featureSpecHash } from './feature-spec.js';

export const M5_DAILY_SPEC_VERSION = 2;
export const M5_DAILY_HORIZONS = 28;
export const M5_DAILY_LOOKBACK = 400;

/** Windows (days) of the `mean_*` features. */
export const M5_MEAN_WINDOWS: readonly number[] = [7, 14, 28, 112, 364];
/** Event types of the calendar, in feature order (`event_*`, bit k of the calendar's mask). */
export const M5_EVENT_TYPES: readonly string[] = ['Cultural', 'National', 'Religious', 'Sporting'];
/** v2: event names (M5 calendar.csv, sorted); a day's `event_id` is 1 + the index of its first name, 0 = none. */
export const M5_EVENT_NAMES: readonly string[] = [
  'Chanukah End', 'Christmas', 'Cinco De Mayo', 'ColumbusDay', 'Easter', 'Eid al-Fitr', 'EidAlAdha',
  "Father's day", 'Halloween', 'IndependenceDay', 'LaborDay', 'LentStart', 'LentWeek2',
  'MartinLutherKingDay', 'MemorialDay', "Mother's day", 'NBAFinalsEnd', 'NBAFinalsStart', 'NewYear',
  'OrthodoxChristmas', 'OrthodoxEaster', 'Pesach End', 'PresidentsDay', 'Purim End', 'Ramadan starts',
  'StPatricksDay', 'SuperBowl', 'Thanksgiving', 'ValentinesDay', 'VeteransDay',
];
/** v2: smoothing constants (milli) of the `ewm_*` features. */
export const M5_EWM_ALPHAS_MILLI: readonly number[] = [100, 300];
const MEAN_WINDOWS = M5_MEAN_WINDOWS;
const EVENT_TYPES = M5_EVENT_TYPES;

export const M5_DAILY_NAMES: readonly string[] = Object.freeze([
  'horizon', 'weekday', 'day_of_month', 'month', 'scale',
  ...Array.from({ length: 7 }, (_, k) => `lag_${k + 1}`),
  ...MEAN_WINDOWS.map((w) => `mean_${w}`),
  'seasonal_naive', 'same_weekday_4', 'same_weekday_12', 'last_year_7',
  'age', 'days_since_sale', 'zero_share_28',
  'log_price', 'price_depth_56', 'price_rel_origin', 'price_rel_max_364',
  ...EVENT_TYPES.map((t) => `event_${t.toLowerCase()}`),
  'snap', 'days_to_event',
  'store', 'dept', 'category', 'state',
  // v2
  'event_id', 'event_id_prev', 'event_id_next', 'days_to_xmas',
  ...M5_EWM_ALPHAS_MILLI.map((a) => `ewm_${a / 10}`), 'std_28', 'max_28', 'nz_mean_28', 'ly_base',
]);

export const M5_DAILY_SPEC = Object.freeze({
  family: 'm5-daily',
  version: M5_DAILY_SPEC_VERSION,
  names: M5_DAILY_NAMES,
  horizons: M5_DAILY_HORIZONS,
  lookback: M5_DAILY_LOOKBACK,
  dayIndex: 'days since 1970-01-01 UTC',
  weekday: '(day + 3) mod 7, 0 = Monday',
  lags: 7,
  meanWindows: MEAN_WINDOWS,
  scaleWindow: 56,
  scaleFloorMilli: 100,
  sameWeekdayCounts: [4, 12],
  lastYearOffset: 364,
  lastYearHalfWidth: 3,
  lastYearMissing: -1,
  ageCap: M5_DAILY_LOOKBACK,
  daysSinceSaleCap: M5_DAILY_LOOKBACK,
  priceDepthWindow: 56,
  priceRefWindow: 364,
  priceMissing: -1,
  logPriceMissing: -10,
  eventTypes: EVENT_TYPES,
  daysToEventCap: 7,
  categoricals: ['store', 'dept', 'category', 'state'],
  categoricalUnknown: -1,
  eventNames: M5_EVENT_NAMES,
  eventIdNone: 0,
  xmasClip: 14,
  ewmAlphasMilli: M5_EWM_ALPHAS_MILLI,
  recentWindow: 28,
  lyBaseFrom: 364,
  lyBaseTo: 391,
  lyBaseMissing: -1,
});

export const M5_DAILY_SPEC_HASH = featureSpecHash(M5_DAILY_SPEC);
export const M5_DAILY_FEATURE_COUNT = M5_DAILY_NAMES.length;
/** Column of the per-series scale (the graph multiplies its outputs by it). */
export const M5_SCALE_COLUMN = 4;
/** Column of `age` (days of history, capped at the lookback). */
export const M5_AGE_COLUMN = 21;
