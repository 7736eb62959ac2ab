/**
 * The US holidays that Walmart's `IsHoliday` flag marks (docs/features.md): Super Bowl
 * Sunday, Labor Day, Thanksgiving and Christmas Day. A week bucket is a holiday when one
 * of these days falls inside it, a day bucket when it is one.
 */
import { bucketStartMs, type BucketSize } from './bucket-clock.js';
import { daysFromCivil, weekdayOfDay, yearOfDay } from './civil-days.js';
import { FEATURE_SPEC } from './feature-spec.js';

const DAY_MS = 86_400_000;
const SUNDAY = 0;
const MONDAY = 1;
const THURSDAY = 4;

/** First day on or after `dayIndex` that falls on `weekday`. */
function onOrAfter(dayIndex: number, weekday: number): number {
  return dayIndex + ((weekday - weekdayOfDay(dayIndex) + 7) % 7);
}

/** Super Bowl Sunday: first Sunday of February, second from 2022 (the 17-game NFL season). */
export function superBowlDay(year: number): number {
  const first = onOrAfter(daysFromCivil(year, 2, 1), SUNDAY);
  return year >= FEATURE_SPEC.superBowlSecondSundayFrom ? first + 7 : first;
}

/** Day indices of the four holidays of a year, in calendar order. */
export function holidayDays(year: number): [number, number, number, number] {
  return [
    superBowlDay(year),
    onOrAfter(daysFromCivil(year, 9, 1), MONDAY),
    onOrAfter(daysFromCivil(year, 11, 1), THURSDAY) + 21,
    daysFromCivil(year, 12, 25),
  ];
}

function anyHolidayIn(year: number, firstDay: number, lastDay: number): boolean {
  // Unrolled rather than holidayDays(...).some(): no array per call on the hot path.
  const sb = superBowlDay(year);
  if (sb >= firstDay && sb <= lastDay) return true;
  const labor = onOrAfter(daysFromCivil(year, 9, 1), MONDAY);
  if (labor >= firstDay && labor <= lastDay) return true;
  const thanks = onOrAfter(daysFromCivil(year, 11, 1), THURSDAY) + 21;
  if (thanks >= firstDay && thanks <= lastDay) return true;
  const xmas = daysFromCivil(year, 12, 25);
  return xmas >= firstDay && xmas <= lastDay;
}

/** Whether the bucket contains (week) or is (day) one of the holidays. */
export function isHolidayBucket(bucket: number, size: BucketSize): boolean {
  const firstDay = Math.floor(bucketStartMs(bucket, size) / DAY_MS);
  const lastDay = size === 'day' ? firstDay : firstDay + 6;
  const y0 = yearOfDay(firstDay);
  const y1 = yearOfDay(lastDay);
  return anyHolidayIn(y0, firstDay, lastDay) || (y1 !== y0 && anyHolidayIn(y1, firstDay, lastDay));
}
