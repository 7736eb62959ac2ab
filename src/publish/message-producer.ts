/** The producer calls the publish stage makes (kafkajs' Producer satisfies it). */
export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface MessageProducer {
  send(record: { topic: string; messages: OutgoingMessage[]; acks?: number }): Promise<unknown>;
}
