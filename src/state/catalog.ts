import type { SeriesInfo } from './state-types.js';

/**
 * In-process index of the catalog (Redis holds the source of truth): validation asks
 * whether a series or store exists, fan-out asks which series a promotion or weather
 * report touches. Lookups are O(1) maps so a 20,000-series promotion fans out in ms.
 */
export class Catalog {
  readonly #byId = new Map<string, SeriesInfo>();
  readonly #byStore = new Map<string, SeriesInfo[]>();
  readonly #byStoreCategory = new Map<string, SeriesInfo[]>();
  readonly #storesByRegion = new Map<string, Set<string>>();

  constructor(series: Iterable<SeriesInfo> = []) {
    for (const s of series) this.add(s);
  }

  add(s: SeriesInfo): void {
    if (this.#byId.has(s.seriesId)) return;
    this.#byId.set(s.seriesId, s);
    push(this.#byStore, s.store, s);
    push(this.#byStoreCategory, `${s.store}\u0000${s.category}`, s);
    let stores = this.#storesByRegion.get(s.region);
    if (!stores) this.#storesByRegion.set(s.region, (stores = new Set()));
    stores.add(s.store);
  }

  /**
   * Add or replace an entry (a catalog record for a listed item may change its department,
   * category or listing date): 'added', 'changed', or 'same' when nothing differs.
   */
  upsert(s: SeriesInfo): 'added' | 'changed' | 'same' {
    const old = this.#byId.get(s.seriesId);
    if (!old) {
      this.add(s);
      return 'added';
    }
    if (sameInfo(old, s)) return 'same';
    remove(this.#byStore, old.store, old);
    remove(this.#byStoreCategory, `${old.store}\u0000${old.category}`, old);
    this.#byId.delete(s.seriesId);
    this.add(s);
    return 'changed';
  }

  /** The region of a store the catalog knows (its first series'), or undefined. */
  regionOfStore(store: string): string | undefined {
    return this.#byStore.get(store)?.[0]?.region;
  }

  get size(): number {
    return this.#byId.size;
  }

  series(seriesId: string): SeriesInfo | undefined {
    return this.#byId.get(seriesId);
  }

  hasStore(store: string): boolean {
    return this.#byStore.has(store);
  }

  hasRegion(region: string): boolean {
    return this.#storesByRegion.has(region);
  }

  seriesOfStore(store: string): readonly SeriesInfo[] {
    return this.#byStore.get(store) ?? [];
  }

  seriesOfStoreCategory(store: string, category: string): readonly SeriesInfo[] {
    return this.#byStoreCategory.get(`${store}\u0000${category}`) ?? [];
  }

  storesOfRegion(region: string): readonly string[] {
    return [...(this.#storesByRegion.get(region) ?? [])];
  }

  all(): IterableIterator<SeriesInfo> {
    return this.#byId.values();
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function remove<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) return;
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) map.delete(key);
}

function sameInfo(a: SeriesInfo, b: SeriesInfo): boolean {
  return a.store === b.store && a.item === b.item && a.category === b.category && a.region === b.region && a.department === b.department && a.listedDate === b.listedDate;
}

/** '%' and '-' inside a store or item id are escaped (%25, %2D): the '-' between them is then unambiguous. */
function escapeIdPart(s: string): string {
  return s.includes('%') || s.includes('-') ? s.replace(/%/g, '%25').replace(/-/g, '%2D') : s;
}

/**
 * The series id (Redis keys, message keys, forecast records): `<store>-<item>`, with '%' and
 * '-' inside either part escaped, so store 'A' item '1-2' (`A-1%2D2`) and store 'A-1' item
 * '2' (`A%2D1-2`) stay two series. Ids without '%' or '-' read as before (no key changes).
 */
export function seriesIdOf(store: string, item: string): string {
  return `${escapeIdPart(store)}-${escapeIdPart(item)}`;
}
