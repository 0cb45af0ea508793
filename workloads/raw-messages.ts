import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';

/** A message as it sits on the topic, bytes untouched, its headers as text. */
export interface RawMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** The first `expected` messages of a topic, in partition and offset order (a fresh group). */
export async function readRawMessages(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 120_000,
): Promise<RawMessage[]> {
  const groupId = `${topic}-raw-${randomBytes(3).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  const seen: RawMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        for (const message of batch.messages)
          seen.push({
            partition: batch.partition,
            offset: Number(message.offset),
            key: message.key,
            value: message.value,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
            ),
          });
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (seen.length < expected) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${expected} messages on ${topic}: read ${seen.length}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await consumer.disconnect();
  }
  return seen.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
