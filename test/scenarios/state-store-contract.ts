import { describe, expect, it } from 'vitest';
import type { SeriesInfo, StateStore, StoredPromotion } from '../../src/state/state-types.js';

const WEEK_MS = 7 * 86_400_000;
const s1: SeriesInfo = { seriesId: 'S1-I1', store: 'S1', item: 'I1', category: 'CA', region: 'R1' };
const s2: SeriesInfo = { seriesId: 'S1-I2', store: 'S1', item: 'I2', category: 'CB', region: 'R1' };

function promo(id: string, over: Partial<StoredPromotion> = {}): StoredPromotion {
  return { promotionId: id, kind: 'discount', items: [], categories: ['CA'], startMs: 3000 * WEEK_MS, endMs: 3001 * WEEK_MS, depth: 0.2, markdown: 0, eventTime: 10, ...over };
}

/**
 * One contract, two implementations: the in-memory store (unit) and the Redis store
 * (integration) must behave the same. `make` returns a fresh, empty store with a
 * 10-bucket window of weeks.
 */
export function defineStateStoreContract(name: string, make: () => Promise<StateStore>): void {
  describe(`state store contract (${name})`, () => {
    it('keeps the catalog', async () => {
      const store = await make();
      await store.putCatalog([s1, s2]);
      const back = await store.loadCatalog();
      expect(back.sort((a, b) => a.seriesId.localeCompare(b.seriesId))).toEqual([s1, s2]);
      await store.close();
    });

    it('adds sales into buckets, ignores a replayed event id, reports the newest bucket', async () => {
      const store = await make();
      const out = await store.applySales([
        { seriesId: s1.seriesId, eventId: 'a', bucket: 100, quantity: 2, eventTimeMs: 1 },
        { seriesId: s1.seriesId, eventId: 'b', bucket: 100, quantity: 3, eventTimeMs: 2 },
        { seriesId: s1.seriesId, eventId: 'a', bucket: 100, quantity: 2, eventTimeMs: 1 },
        { seriesId: s1.seriesId, eventId: 'c', bucket: 98, quantity: -1, eventTimeMs: 3 },
      ]);
      expect(out).toEqual(['applied', 'applied', 'duplicate', 'applied']);
      const [snap] = await store.readSnapshots([s1]);
      expect(snap!.lastSalesBucket).toBe(100);
      expect(snap!.sales.get(100)).toBe(5);
      expect(snap!.sales.get(98)).toBe(-1);
      await store.close();
    });

    it('drops events older than the window and trims buckets that fall out of it', async () => {
      const store = await make();
      await store.applySales([{ seriesId: s1.seriesId, eventId: 'old', bucket: 50, quantity: 1, eventTimeMs: 1 }]);
      await store.applySales([{ seriesId: s1.seriesId, eventId: 'new', bucket: 65, quantity: 4, eventTimeMs: 2 }]);
      const out = await store.applySales([
        { seriesId: s1.seriesId, eventId: 'late-ok', bucket: 56, quantity: 1, eventTimeMs: 3 },
        { seriesId: s1.seriesId, eventId: 'late-too-old', bucket: 55, quantity: 1, eventTimeMs: 4 },
      ]);
      expect(out).toEqual(['applied', 'too-old']);
      const [snap] = await store.readSnapshots([s1]);
      expect([...snap!.sales.keys()].sort((a, b) => a - b)).toEqual([56, 65]);
      await store.close();
    });

    it('serves promotions to the series they cover; a newer announcement replaces, an older one does not', async () => {
      const store = await make();
      await store.applyPromotions([{ store: 'S1', promotion: promo('p1') }]);
      expect(await store.applyPromotions([{ store: 'S1', promotion: promo('p1') }])).toEqual(['duplicate']);
      await store.applyPromotions([{ store: 'S1', promotion: promo('p1', { depth: 0.4, eventTime: 20 }) }]);
      await store.applyPromotions([{ store: 'S1', promotion: promo('p1', { depth: 0.1, eventTime: 15 }) }]);
      const [a, b] = await store.readSnapshots([s1, s2]);
      expect(a!.promotions.map((p) => [p.promotionId, p.depth])).toEqual([['p1', 0.4]]);
      expect(b!.promotions).toEqual([]);
      await store.close();
    });

    it('weather: an observation beats a forecast; store weather beats region weather', async () => {
      const store = await make();
      await store.applyWeather([
        { scope: 'store', location: 'S1', bucket: 101, weather: { rank: 2, eventTime: 5, temperatureC: 10, precipitationMm: 0 } },
        { scope: 'store', location: 'S1', bucket: 101, weather: { rank: 1, eventTime: 9, temperatureC: 30, precipitationMm: 0 } },
        { scope: 'region', location: 'R1', bucket: 101, weather: { rank: 2, eventTime: 5, temperatureC: 99, precipitationMm: 0 } },
        { scope: 'region', location: 'R1', bucket: 102, weather: { rank: 1, eventTime: 5, temperatureC: 12, precipitationMm: 3 } },
      ]);
      const [snap] = await store.readSnapshots([s1]);
      expect(snap!.weather.get(101)).toEqual({ temperatureC: 10, precipitationMm: 0 });
      expect(snap!.weather.get(102)).toEqual({ temperatureC: 12, precipitationMm: 3 });
      await store.close();
    });

    it('the same updates applied twice leave an identical dump', async () => {
      const store = await make();
      const apply = async () => {
        await store.applySales([{ seriesId: s1.seriesId, eventId: 'x', bucket: 70, quantity: 1.5, eventTimeMs: 1 }]);
        await store.applyPromotions([{ store: 'S1', promotion: promo('p9') }]);
        await store.applyWeather([{ scope: 'store', location: 'S1', bucket: 70, weather: { rank: 1, eventTime: 1, temperatureC: 3, precipitationMm: null } }]);
      };
      await apply();
      const once = await store.dump();
      await apply();
      expect(await store.dump()).toEqual(once);
      await store.close();
    });

    it('keeps the first sale beyond the window, counting only positive quantities', async () => {
      const store = await make();
      await store.applySales([
        { seriesId: s1.seriesId, eventId: 'z', bucket: 40, quantity: 0, eventTimeMs: 1 },
        { seriesId: s1.seriesId, eventId: 'f', bucket: 41, quantity: 2, eventTimeMs: 2 },
        { seriesId: s1.seriesId, eventId: 'n', bucket: 80, quantity: 1, eventTimeMs: 3 },
      ]);
      const [snap] = await store.readSnapshots([s1]);
      expect(snap!.firstSaleBucket).toBe(41);
      expect(snap!.sales.has(41)).toBe(false); // out of the 10-bucket window, but still the first sale
      const [other] = await store.readSnapshots([s2]);
      expect(other!.firstSaleBucket).toBeNull();
      await store.close();
    });

    it('keeps price changes per series: ascending, replay-safe, the later event wins for a bucket, the regular price by event time', async () => {
      const store = await make();
      const up = (fromBucket: number, price: number, eventTimeMs: number, regularPrice: number | null = null, eventId = `p${fromBucket}-${eventTimeMs}`) =>
        ({ seriesId: s1.seriesId, eventId, fromBucket, price, regularPrice, eventTimeMs });
      expect(await store.applyPrices([up(100, 2.5, 10, 3), up(95, 3, 5)])).toEqual(['applied', 'applied']);
      expect(await store.applyPrices([up(100, 2.5, 10, 3)])).toEqual(['duplicate']);
      expect(await store.applyPrices([up(100, 2.0, 4)])).toEqual(['duplicate']); // older event for the same bucket
      expect(await store.applyPrices([up(100, 2.25, 11)])).toEqual(['applied']);
      expect(await store.applyPrices([up(101, 2.25, 12, 2.9)])).toEqual(['applied']);
      const [snap] = await store.readSnapshots([s1]);
      expect(snap!.prices).toEqual([{ fromBucket: 95, price: 3 }, { fromBucket: 100, price: 2.25 }, { fromBucket: 101, price: 2.25 }]);
      expect(snap!.regularPrice).toBe(2.9);
      const [none] = await store.readSnapshots([s2]);
      expect(none!.prices).toEqual([]);
      expect(none!.regularPrice).toBeNull();
      await store.close();
    });

    it('prunes price changes before the window but keeps the newest of them (it is still in force)', async () => {
      const store = await make();
      const up = (fromBucket: number, price: number) => ({ seriesId: s1.seriesId, eventId: `p${fromBucket}`, fromBucket, price, regularPrice: null, eventTimeMs: fromBucket });
      await store.applyPrices([up(10, 1), up(12, 2), up(14, 3)]);
      await store.applyPrices([up(30, 4)]); // window 10: changes before bucket 20 go, except the newest (14)
      const [snap] = await store.readSnapshots([s1]);
      expect(snap!.prices).toEqual([{ fromBucket: 14, price: 3 }, { fromBucket: 30, price: 4 }]);
      await store.close();
    });
  });
}
