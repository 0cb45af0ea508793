import type { AppConfig } from '@assigner/config';
import { Kafka, KafkaJSProtocolError, logLevel, type Admin, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

const PINO_LEVEL: Record<logLevel, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.NOTHING]: 'debug',
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

// Keys are hashed with the Java client's murmur2 either way; the notice about it is noise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/**
 * kafkajs warns at each idempotent producer whose retries are limited. Ours are limited so that
 * an outage surfaces as an error instead of a send that never returns, and that cannot cost
 * exactly-once: every send is inside a transaction, and on any failure the transaction is aborted
 * and its producer replaced (read_committed consumers never see an aborted transaction's records).
 */
const LIMITED_RETRIES_WARNING =
  'Limiting retries for the idempotent producer may invalidate EoS guarantees';
let limitedRetriesExplained = false;

/**
 * What the broker answers while a transactional id's previous transaction is still being settled
 * (fenced by a new owner, or aborted): kafkajs retries it, but logs each answer as an error.
 */
const CONCURRENT_TRANSACTIONS =
  'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

/** A kafkajs client whose own logs go through pino, so every line is structured JSON. */
export function createKafka(config: AppConfig, logger: Logger, clientSuffix: string): Kafka {
  return new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}-${clientSuffix}`,
    brokers: config.KAFKA_BROKERS,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...extra } = log;
        if (message === LIMITED_RETRIES_WARNING) {
          if (!limitedRetriesExplained)
            logger.info(
              { kafka: namespace },
              'producer retries are limited on purpose: every send is in a transaction, aborted and its producer replaced on any failure, so exactly-once holds',
            );
          limitedRetriesExplained = true;
          return;
        }
        const retried = extra.error === CONCURRENT_TRANSACTIONS;
        logger[retried ? 'debug' : PINO_LEVEL[level]]({ kafka: namespace, ...extra }, message);
      },
  });
}

/** A topic a program writes or reads, with the setting that names it (for error messages). */
export interface NeededTopic {
  topic: string;
  /** The configuration setting or option the topic's name comes from, e.g. `DLQ_TOPIC`. */
  setting: string;
  numPartitions: number;
}

/** A topic could not be listed or created: says which, from which setting, and why. */
export class TopicSetupError extends Error {
  override readonly name = 'TopicSetupError';
}

/** How long brokers may take to know the topics, each partition with a leader. */
const TOPICS_SETTLE_MS = 60_000;

/**
 * Creates the topics that do not exist yet, with `numPartitions` (the `TOPIC_PARTITIONS`
 * setting); existing ones are left as they are. Resolves with those it created, once every
 * partition of every topic has a leader. Fails with one line naming the topic and its setting.
 *
 * Brokers answer "unknown topic" for a moment after a topic is made or deleted, and for longer
 * right after a restart; kafkajs's own `waitForLeaders` fails on that answer, so it is waited out
 * here, up to a minute.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly NeededTopic[],
): Promise<NeededTopic[]> {
  const admin = kafka.admin();
  const named = topics.map(({ topic, setting }) => `${topic} (${setting})`).join(', ');
  try {
    await admin.connect();
    const deadline = Date.now() + TOPICS_SETTLE_MS;
    let created: NeededTopic[] | undefined;
    for (;;) {
      try {
        created ??= await createMissing(admin, topics);
        if (await everyPartitionLed(admin, topics)) return created;
      } catch (error) {
        if (!isUnknownTopic(error)) throw error;
      }
      if (Date.now() > deadline)
        throw new Error(`not every partition had a leader after ${TOPICS_SETTLE_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    throw new TopicSetupError(
      `could not make sure the topics ${named} exist, with TOPIC_PARTITIONS=${topics[0]?.numPartitions}: ${errorText(error)}`,
      { cause: error },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function createMissing(admin: Admin, topics: readonly NeededTopic[]): Promise<NeededTopic[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic.topic));
  if (missing.length > 0)
    await admin.createTopics({
      topics: missing.map(({ topic, numPartitions }) => ({ topic, numPartitions })),
    });
  return missing;
}

async function everyPartitionLed(admin: Admin, topics: readonly NeededTopic[]): Promise<boolean> {
  const metadata = await admin.fetchTopicMetadata({ topics: topics.map(({ topic }) => topic) });
  return metadata.topics.every(
    ({ partitions }) => partitions.length > 0 && partitions.every(({ leader }) => leader >= 0),
  );
}

/** "This server does not host this topic-partition", however deep kafkajs wrapped it. */
function isUnknownTopic(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error;) {
    if (current instanceof KafkaJSProtocolError && current.type === 'UNKNOWN_TOPIC_OR_PARTITION')
      return true;
    current = (current as Error & { originalError?: unknown }).originalError ?? current.cause;
  }
  return false;
}

/** A kafkajs error's message with the broker's reason it wraps, on one line. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current instanceof Error && parts.length < 4;) {
    if (!parts.includes(current.message)) parts.push(current.message);
    const next: unknown =
      (current as Error & { originalError?: unknown }).originalError ?? current.cause;
    current = next;
  }
  return parts.join(': ') || String(error);
}
