/** Stable share 0..99 of a series id (FNV-1a): the same series is always in or out of a canary or a sample. */
export function seriesBucket(seriesId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seriesId.length; i++) {
    h ^= seriesId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 100;
}
