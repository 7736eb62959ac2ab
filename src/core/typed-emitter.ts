import { EventEmitter } from 'node:events';

/**
 * A typed event emitter: stages emit events, metrics and logs subscribe (kafkajs'
 * instrumentation-event style). `E` maps event names to payload types.
 */
export class TypedEmitter<E extends { [K in keyof E]: unknown }> {
  readonly #inner = new EventEmitter();

  constructor() {
    this.#inner.setMaxListeners(50);
  }

  on<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): () => void {
    this.#inner.on(event, listener);
    return () => this.#inner.off(event, listener);
  }

  emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    this.#inner.emit(event, payload);
  }
}
