/**
 * Time buckets. A bucket is an integer index:
 * - `day`: days since 1970-01-01 (UTC).
 * - `week`: weeks ending on Friday (Saturday..Friday, UTC), the convention of the Walmart
 *   data where a row dated Friday 2010-02-05 holds that week's sales. 1970-01-01 was a
 *   Thursday, so day 2 is the first Saturday and week w covers days 7w+2 .. 7w+8.
 */
export type BucketSize = 'day' | 'week';

const DAY_MS = 86_400_000;
const WEEK_ORIGIN_DAY = 2;

export function bucketOf(epochMs: number, size: BucketSize): number {
  const day = Math.floor(epochMs / DAY_MS);
  return size === 'day' ? day : Math.floor((day - WEEK_ORIGIN_DAY) / 7);
}

/** Inclusive start of a bucket, epoch ms. */
export function bucketStartMs(bucket: number, size: BucketSize): number {
  return size === 'day' ? bucket * DAY_MS : (bucket * 7 + WEEK_ORIGIN_DAY) * DAY_MS;
}

/** Exclusive end of a bucket, epoch ms. */
export function bucketEndMs(bucket: number, size: BucketSize): number {
  return bucketStartMs(bucket + 1, size);
}

/** Length of one bucket in ms (buckets are fixed-length: UTC days, or 7 of them). */
export function bucketLengthMs(size: BucketSize): number {
  return size === 'day' ? DAY_MS : 7 * DAY_MS;
}

/** The date that labels a bucket (the day itself, or the week's Friday), as YYYY-MM-DD. */
export function bucketLabel(bucket: number, size: BucketSize): string {
  return new Date(bucketEndMs(bucket, size) - DAY_MS).toISOString().slice(0, 10);
}
