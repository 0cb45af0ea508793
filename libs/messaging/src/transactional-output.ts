import type { AnalyticsMessage } from '@assigner/contracts';
import type { DeadLetter } from '@assigner/pipeline';
import type { IHeaders, Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';

export interface TransactionalOutputOptions {
  kafka: Kafka;
  /** Prefix of the transactional ids: one id per input partition, the same on every worker. */
  transactionalIdPrefix: string;
  groupId: string;
  analyticsTopic: string;
  dlqTopic: string;
  logger: Logger;
}

export interface PartitionBatchOutput {
  topic: string;
  partition: number;
  /** The offset to commit: the last offset of the batch plus one. */
  nextOffset: string;
  analytics: readonly AnalyticsMessage[];
  deadLetters: readonly DeadLetter[];
}

function deadLetterMessage({ message, reason }: DeadLetter): Message {
  const [topic, partition] = splitSource(message.position.source);
  const headers: IHeaders = {
    ...(message.headers as IHeaders | undefined),
    'dlq-reason': reason,
    'dlq-source-topic': topic,
    'dlq-source-partition': partition,
    'dlq-source-offset': String(message.position.offset),
  };
  return { key: message.key ?? null, value: message.value, headers };
}

/** "topic/partition" → [topic, partition]; topic names cannot hold "/". */
function splitSource(source: string): [string, string] {
  const slash = source.lastIndexOf('/');
  return [source.slice(0, slash), source.slice(slash + 1)];
}

/**
 * Publishes a batch's analytics messages and dead letters and commits its input offsets in one
 * Kafka transaction: read_committed consumers see all of it or none of it. The transactional id
 * belongs to the input partition, so whichever worker owns the partition next fences any worker
 * that still thinks it does (a "zombie" after a pause or a partition move).
 */
export class TransactionalOutput {
  private readonly producers = new Map<string, Promise<Producer>>();

  constructor(private readonly options: TransactionalOutputOptions) {}

  /**
   * Takes ownership of a partition's output before its first batch: creating the partition's
   * transactional producer fences the previous owner and settles its last transaction, and only
   * then is the committed offset read. Resolves with that offset when this call took ownership
   * (messages below it were already published by the previous owner), else undefined.
   */
  async claim(topic: string, partition: number): Promise<number | undefined> {
    const key = `${topic}-${partition}`;
    if (this.producers.has(key)) return undefined;
    await this.producerFor(key);
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({
        groupId: this.options.groupId,
        topics: [topic],
      });
      const committed = offsets?.partitions.find((p) => p.partition === partition)?.offset;
      return committed === undefined || Number(committed) < 0 ? 0 : Number(committed);
    } finally {
      await admin.disconnect();
    }
  }

  /** After a rebalance every partition must be claimed again: its previous owner may have moved on. */
  async releaseAll(): Promise<void> {
    await this.close();
  }

  async publish(batch: PartitionBatchOutput): Promise<void> {
    const key = `${batch.topic}-${batch.partition}`;
    const producer = await this.producerFor(key);
    const transaction = await producer.transaction();
    try {
      if (batch.analytics.length > 0) {
        await transaction.send({
          topic: this.options.analyticsTopic,
          messages: batch.analytics.map((message) => ({
            key: String(message.userId),
            value: JSON.stringify(message),
          })),
        });
      }
      if (batch.deadLetters.length > 0) {
        await transaction.send({
          topic: this.options.dlqTopic,
          messages: batch.deadLetters.map(deadLetterMessage),
        });
      }
      await transaction.sendOffsets({
        consumerGroupId: this.options.groupId,
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: batch.nextOffset }],
          },
        ],
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      // A fenced or broken producer cannot be used again: the next batch gets a fresh one.
      this.producers.delete(key);
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const producers = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(
      producers.map(async (pending) => (await pending.catch(() => undefined))?.disconnect()),
    );
  }

  private producerFor(key: string): Promise<Producer> {
    let pending = this.producers.get(key);
    if (!pending) {
      const producer = this.options.kafka.producer({
        transactionalId: `${this.options.transactionalIdPrefix}-${key}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      pending = producer.connect().then(() => producer);
      pending.catch(() => this.producers.delete(key));
      this.producers.set(key, pending);
    }
    return pending;
  }
}
