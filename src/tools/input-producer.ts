import type { Producer } from 'kafkajs';
import { loadSchema, valueSubject } from '../core/schemas.js';
import type { SchemaCodec } from '../core/schema-codec.js';
import type { Config } from '../ops/config.js';
import { seriesIdOf } from '../state/catalog.js';

export interface SalesRecord {
  eventId: string;
  store: string;
  item: string;
  eventTime: number;
  quantity: number;
  unitPrice: number | null;
}

export interface PromotionRecord {
  promotionId: string;
  kind: string;
  stores: string[];
  items: string[];
  categories: string[];
  startTime: number;
  endTime: number;
  discountDepth: number | null;
  markdownAmount: number | null;
  eventTime: number;
}

export interface WeatherRecord {
  eventId: string;
  scope: 'store' | 'region';
  location: string;
  date: string;
  kind: 'observation' | 'forecast';
  temperatureC: number | null;
  precipitationMm: number | null;
  eventTime: number;
}

export interface PriceRecord {
  eventId: string;
  store: string;
  item: string;
  price: number;
  regularPrice: number | null;
  effectiveDate: string;
  eventTime: number;
}

export interface CatalogRecord {
  store: string;
  item: string;
  category: string;
  department: string | null;
  region: string | null;
  regularPrice: number | null;
  listedDate: string | null;
  eventTime: number;
}

export type InputRecord =
  | { topic: 'sales'; value: SalesRecord }
  | { topic: 'promotions'; value: PromotionRecord }
  | { topic: 'weather'; value: WeatherRecord }
  | { topic: 'prices'; value: PriceRecord }
  | { topic: 'catalog'; value: CatalogRecord };

export interface InputTopics {
  sales: string;
  promotions: string;
  weather: string;
  prices: string;
  catalog: string;
}

/** The input topic names of a configuration. */
export function inputTopics(c: Pick<Config, 'topicSales' | 'topicPromotions' | 'topicWeather' | 'topicPrices' | 'topicCatalog'>): InputTopics {
  return { sales: c.topicSales, promotions: c.topicPromotions, weather: c.topicWeather, prices: c.topicPrices, catalog: c.topicCatalog };
}

/**
 * Writes input events the way an upstream system would: Avro through the registry, keyed
 * so one series (sales, prices), one promotion or one location stays in order on one partition.
 */
export class InputProducer {
  #enc: Record<keyof InputTopics, (v: unknown) => Buffer> | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly codec: SchemaCodec,
    private readonly topics: InputTopics,
  ) {}

  async init(): Promise<void> {
    if (this.#enc) return;
    this.#enc = {
      sales: await this.codec.encoder(valueSubject(this.topics.sales), loadSchema('sales')),
      promotions: await this.codec.encoder(valueSubject(this.topics.promotions), loadSchema('promotion')),
      weather: await this.codec.encoder(valueSubject(this.topics.weather), loadSchema('weather')),
      prices: await this.codec.encoder(valueSubject(this.topics.prices), loadSchema('price')),
      catalog: await this.codec.encoder(valueSubject(this.topics.catalog), loadSchema('catalog')),
    };
  }

  /** Send records (any mix), grouped per topic, acks from all replicas. */
  async send(records: readonly InputRecord[]): Promise<void> {
    await this.init();
    const enc = this.#enc!;
    const by: Record<keyof InputTopics, Array<{ key: string; value: Buffer }>> = { sales: [], promotions: [], weather: [], prices: [], catalog: [] };
    for (const r of records) {
      if (r.topic === 'sales') by.sales.push({ key: seriesIdOf(r.value.store, r.value.item), value: enc.sales(r.value) });
      else if (r.topic === 'prices') by.prices.push({ key: seriesIdOf(r.value.store, r.value.item), value: enc.prices(r.value) });
      else if (r.topic === 'catalog') by.catalog.push({ key: seriesIdOf(r.value.store, r.value.item), value: enc.catalog(r.value) });
      else if (r.topic === 'promotions') by.promotions.push({ key: r.value.promotionId, value: enc.promotions(r.value) });
      else by.weather.push({ key: `${r.value.scope}:${r.value.location}`, value: enc.weather(r.value) });
    }
    const topicMessages = (Object.keys(by) as Array<keyof typeof by>)
      .filter((k) => by[k].length > 0)
      .map((k) => ({ topic: this.topics[k], messages: by[k] }));
    if (topicMessages.length > 0) await this.producer.sendBatch({ topicMessages, acks: -1 });
  }
}
