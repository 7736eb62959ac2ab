import type { InputProducer, InputRecord } from './input-producer.js';

export interface PlayOptions {
  /** Events per second; 0 = as fast as the broker takes them. */
  rate: number;
  /** Records per send. */
  chunk?: number;
  /** Stop early (e.g. demo duration reached). */
  shouldStop?: () => boolean;
  onProgress?: (sent: number) => void;
}

/** Sends records in order, paced to `rate` events per second. Returns the number sent. */
export async function play(records: Iterable<InputRecord>, producer: InputProducer, o: PlayOptions): Promise<number> {
  const chunk = o.chunk ?? (o.rate > 0 ? Math.max(1, Math.min(1000, Math.round(o.rate / 20))) : 1000);
  const started = Date.now();
  let sent = 0;
  let buf: InputRecord[] = [];
  const flush = async () => {
    if (buf.length === 0) return;
    await producer.send(buf);
    sent += buf.length;
    buf = [];
    o.onProgress?.(sent);
    if (o.rate > 0) {
      const due = started + (sent / o.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  };
  for (const r of records) {
    if (o.shouldStop?.()) break;
    buf.push(r);
    if (buf.length >= chunk) await flush();
  }
  if (!o.shouldStop?.()) await flush();
  return sent;
}
