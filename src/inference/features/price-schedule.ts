import type { PriceChange } from '../series-snapshot.js';

/**
 * The price in force on each day `base .. base + out.length - 1` (the last change at or
 * before it; NaN before the first), from changes ascending by `fromBucket`: one sweep.
 */
export function fillPricesInForce(changes: readonly PriceChange[], base: number, out: Float64Array): Float64Array {
  let k = 0;
  let p = Number.NaN;
  for (let i = 0; i < out.length; i++) {
    while (k < changes.length && changes[k]!.fromBucket <= base + i) p = changes[k++]!.price;
    out[i] = p;
  }
  return out;
}
