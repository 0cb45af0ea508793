import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient, type MongoClientOptions } from 'mongodb';

/** A name no other test run uses, so tests can share one broker and store. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

function required(name: 'KAFKA_BROKERS' | 'MONGO_URL' | 'SCHEMA_REGISTRY_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the suite with \`npm test\``);
  return value;
}

export function testKafka(): Kafka {
  return new Kafka({
    clientId: uniqueName('test'),
    brokers: required('KAFKA_BROKERS').split(','),
    // kafkajs logs retriable coordinator errors at ERROR while a fresh broker warms up.
    logLevel: logLevel.NOTHING,
  });
}

export function testMongoClient(options: MongoClientOptions = {}): MongoClient {
  return new MongoClient(required('MONGO_URL'), { serverSelectionTimeoutMS: 5000, ...options });
}

/** The schema registry's Confluent-compatible API (`npm test` starts a local Apicurio). */
export function schemaRegistryUrl(): string {
  return required('SCHEMA_REGISTRY_URL');
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A message read back from a topic, its headers as text. */
export interface ReadMessage {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/**
 * Every committed message of a topic, as a read_committed consumer sees it (kafkajs's default):
 * read until at least `expected` arrived and none came for a moment.
 */
export async function readCommitted(
  kafka: Kafka,
  topic: string,
  expected = 0,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 200 });
  const seen: ReadMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }) => {
      seen.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers: Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        ),
      });
      return Promise.resolve();
    },
  });
  let last = -1;
  try {
    await waitFor(
      `${expected} messages on ${topic}`,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const quiet = seen.length === last;
        last = seen.length;
        return quiet && seen.length >= expected;
      },
      180_000,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}: read ${seen.length}`);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
