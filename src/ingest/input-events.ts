import type { SeriesInfo } from '../state/state-types.js';

/** Validated input events (what the decoders produce once a record has passed checks). */
export interface SourceOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface SalesEvent {
  kind: 'sales';
  eventId: string;
  seriesId: string;
  store: string;
  item: string;
  eventTimeMs: number;
  quantity: number;
  unitPrice: number | null;
}

export interface PromotionEvent {
  kind: 'promotion';
  promotionId: string;
  promotionKind: string;
  stores: string[];
  items: string[];
  categories: string[];
  startMs: number;
  endMs: number;
  depth: number;
  markdown: number;
  eventTimeMs: number;
}

export interface WeatherEvent {
  kind: 'weather';
  eventId: string;
  scope: 'store' | 'region';
  location: string;
  /** Noon UTC of the date the report is about. */
  dateMs: number;
  observation: boolean;
  temperatureC: number | null;
  precipitationMm: number | null;
  eventTimeMs: number;
}

export interface PriceEvent {
  kind: 'price';
  eventId: string;
  seriesId: string;
  store: string;
  item: string;
  price: number;
  regularPrice: number | null;
  /** Noon UTC of the first day the price is in force. */
  effectiveMs: number;
  eventTimeMs: number;
}

/** A catalog record: an item listed (or re-described) in a store. */
export interface ListingEvent {
  kind: 'listing';
  info: SeriesInfo;
  regularPrice: number | null;
  /** Noon UTC of listedDate, or null when the record gives none. */
  listedMs: number | null;
  eventTimeMs: number;
}

export type InputEvent = SalesEvent | PromotionEvent | WeatherEvent | PriceEvent | ListingEvent;

/** Raw Kafka record as the ingest stage sees it. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: string;
}
