import type { AnalyticsMessage, AnalyticsOutput, DeadLetter } from '@assigner/contracts';
import { backOff } from 'exponential-backoff';
import {
  KafkaJSProtocolError,
  type IHeaders,
  type Kafka,
  type Message,
  type Producer,
  type Transaction,
} from 'kafkajs';
import type { Logger } from 'pino';
import { ensureTopics, errorText, type NeededTopic } from './kafka-client';
import { fetchStableCommittedOffsets } from './stable-committed-offsets';

export interface TransactionalOutputOptions {
  kafka: Kafka;
  /** For the committed-offset read, which kafkajs cannot make stable. */
  brokers: readonly string[];
  clientId: string;
  /** Prefix of the transactional ids: one id per input partition, the same on every worker. */
  transactionalIdPrefix: string;
  groupId: string;
  analyticsTopic: string;
  dlqTopic: string;
  /**
   * The output topics to create again when a transaction fails and they are missing (deleted
   * while this process runs): without them every retry of the batch would fail the same way.
   */
  recreateTopics?: readonly NeededTopic[];
  logger: Logger;
}

/** What a batch of one input partition commits besides its analytics messages. */
export interface BatchCommit {
  /** The offset to commit: the last offset of the batch plus one. */
  nextOffset: string;
  deadLetters: readonly DeadLetter[];
}

export interface PartitionBatchOutput extends BatchCommit {
  topic: string;
  partition: number;
  analytics: readonly AnalyticsMessage[];
}

/** Messages per send inside a transaction (about 400 bytes each). */
export const SEND_SLICE = 1000;

/** An analytics message as a Kafka record: keyed by user id, as the worker publishes it. */
export function analyticsRecord(message: AnalyticsMessage): Message {
  return { key: String(message.userId), value: JSON.stringify(message) };
}

function deadLetterMessage({ message, reason, origin }: DeadLetter): Message {
  const [topic, partition] = splitSource(message.position.source);
  const headers: IHeaders = {
    ...(message.headers as IHeaders | undefined),
    'dlq-reason': reason,
    ...(origin ?? {
      'dlq-source-topic': topic,
      'dlq-source-partition': partition,
      'dlq-source-offset': String(message.position.offset),
    }),
  };
  return { key: message.key ?? null, value: message.value, headers };
}

/** "topic/partition" → [topic, partition]; topic names cannot hold "/". */
function splitSource(source: string): [string, string] {
  const slash = source.lastIndexOf('/');
  return [source.slice(0, slash), source.slice(slash + 1)];
}

interface OwnedPartition {
  producer: Promise<Producer>;
  /** The offset below which everything is published; known once the claim has read it. */
  published?: number;
}

interface TransactionSteps {
  sendAnalytics(analytics: readonly AnalyticsMessage[]): Promise<void>;
  deadLetterTopic: string;
  groupId: string;
  /** After the commit: everything below `nextOffset` is published. */
  committed(nextOffset: number): void;
  /** Aborts and lets the partition's producer go. */
  abandon(): Promise<void>;
  /** After a failure: output topics deleted meanwhile are made again, for the retry. */
  failed(): Promise<void>;
}

/** One batch's Kafka transaction on one input partition (see `TransactionalOutput.begin`). */
export class PartitionTransaction implements AnalyticsOutput {
  private sending: Promise<void> = Promise.resolve();
  private finished = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly transaction: Transaction,
    private readonly steps: TransactionSteps,
  ) {}

  /** Starts sending at once, after what was sent before; a failure surfaces at the commit. */
  send(analytics: readonly AnalyticsMessage[]): void {
    this.sending = this.sending.then(() => this.steps.sendAnalytics(analytics));
    // Awaited by the commit or abort; a failure meanwhile must not go unhandled.
    this.sending.catch(() => undefined);
  }

  /** Sends the dead letters and the input's next offset, and commits: all of it visible, or none. */
  async commit({ nextOffset, deadLetters }: BatchCommit): Promise<void> {
    this.finished = true;
    try {
      await this.sending;
      if (deadLetters.length > 0)
        await this.transaction.send({
          topic: this.steps.deadLetterTopic,
          messages: deadLetters.map(deadLetterMessage),
        });
      const offsets = {
        consumerGroupId: this.steps.groupId,
        topics: [
          { topic: this.topic, partitions: [{ partition: this.partition, offset: nextOffset }] },
        ],
      };
      // First in a batch with nothing to publish: the broker answers "concurrent transactions"
      // while it still writes the partition's previous commit, and kafkajs does not retry it.
      await whileSettling(() => this.transaction.sendOffsets(offsets), OFFSETS_SETTLING);
      await this.transaction.commit();
      this.steps.committed(Number(nextOffset));
    } catch (error) {
      await this.steps.abandon();
      await this.steps.failed();
      throw error;
    }
  }

  /** Nothing of this batch becomes visible; the next batch claims the partition again. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.sending.catch(() => undefined);
    await this.steps.abandon();
  }
}

/**
 * How long the broker lets a transaction stay open before it aborts it. A partition's transaction
 * opens at its first send, once the batch's states are stored, and stays open while the store
 * writes the lookup copies (inserts and `_id` lookups, no scan: about a second for a 100k-line
 * replay chunk) until its commit. While it is open, read_committed consumers of the analytics
 * topic wait at it: 30 s bounds how long a hung writer can hold them, and leaves a slow store
 * ample time; a batch that outlasts it fails its commit and is done again, losing nothing.
 */
export const TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * Publishes a batch's analytics messages and dead letters and commits its input offsets in one
 * Kafka transaction: read_committed consumers see all of it or none of it. The transactional id
 * belongs to the input partition, so whichever worker owns the partition next fences any worker
 * that still thinks it does (a "zombie" after a pause or a partition move).
 */
export class TransactionalOutput {
  /** Per partition (`<topic>-<partition>`) whose output this process owns. */
  private readonly owned = new Map<string, OwnedPartition>();

  constructor(private readonly options: TransactionalOutputOptions) {}

  /**
   * Takes ownership of a partition's output: creating the partition's transactional producer
   * fences the previous owner and settles its last transaction, and only then is the committed
   * offset read. Resolves with the offset below which everything is published already: the
   * committed one when this call took ownership, then the end of each batch this worker published.
   * Every batch must skip what lies below it: the consumer may fetch from an older offset than
   * the one committed, and in several batches.
   *
   * The read must be stable (KIP-447 `require_stable`): the offsets of a just-committed transaction
   * become visible a moment after it completes, and reading the older offset would publish that
   * transaction's range again.
   */
  async claim(topic: string, partition: number): Promise<number> {
    const key = `${topic}-${partition}`;
    const owned = this.ownedPartition(key);
    if (owned.published !== undefined) return owned.published;
    await owned.producer;
    try {
      const offsets = await fetchStableCommittedOffsets({
        brokers: this.options.brokers,
        clientId: this.options.clientId,
        groupId: this.options.groupId,
        topic,
        partitions: [partition],
      });
      owned.published = Math.max(0, offsets.get(partition) ?? -1);
      return owned.published;
    } catch (error) {
      // Unclaimed until the offset is known: the batch's retry claims again.
      await this.release(key);
      throw error;
    }
  }

  /** After a rebalance every partition must be claimed again: its previous owner may have moved on. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.owned.keys()].map((key) => this.release(key)));
  }

  /** At shutdown: the same as giving up every partition. */
  async close(): Promise<void> {
    await this.releaseAll();
  }

  /** One batch in one transaction, all of it at once (a takeover's, a test's). */
  async publish(batch: PartitionBatchOutput): Promise<void> {
    const transaction = await this.begin(batch.topic, batch.partition);
    transaction.send(batch.analytics);
    await transaction.commit(batch);
  }

  /**
   * Opens a batch's transaction on the partition this process claimed: `send` the analytics
   * messages as they are decided (each send starts at once, in order), then `commit` with the
   * input's next offset and the dead letters, or `abort`. A commit that fails lets the
   * partition's producer go, as an abort does, and throws.
   */
  async begin(topic: string, partition: number): Promise<PartitionTransaction> {
    const key = `${topic}-${partition}`;
    const owned = this.ownedPartition(key);
    const transaction = await (await owned.producer).transaction();
    return new PartitionTransaction(topic, partition, transaction, {
      sendAnalytics: (analytics) => this.sendAnalytics(transaction, analytics),
      deadLetterTopic: this.options.dlqTopic,
      groupId: this.options.groupId,
      committed: (nextOffset) => {
        owned.published = nextOffset;
      },
      abandon: () => this.abandon(key, transaction),
      failed: () => this.recreateMissingTopics(),
    });
  }

  private async recreateMissingTopics(): Promise<void> {
    const { kafka, recreateTopics, logger } = this.options;
    if (!recreateTopics) return;
    try {
      for (const { topic, setting } of await ensureTopics(kafka, recreateTopics))
        logger.warn({ topic, setting }, 'an output topic was missing: created it again');
    } catch (error) {
      // The broker is away, most likely: the batch's retry will find out again.
      logger.debug({ error: errorText(error) }, 'could not check the output topics');
    }
  }

  /**
   * Aborts and lets the producer go, fenced or broken or not: the next batch claims with a fresh
   * one, whose registration also settles anything this one left open.
   */
  private async abandon(key: string, transaction: Transaction): Promise<void> {
    await transaction.abort().catch(() => undefined);
    await this.release(key);
  }

  /** In slices: one record batch per partition must stay under the broker's message size. */
  private async sendAnalytics(
    transaction: Transaction,
    analytics: readonly AnalyticsMessage[],
  ): Promise<void> {
    for (let start = 0; start < analytics.length; start += SEND_SLICE) {
      await transaction.send({
        topic: this.options.analyticsTopic,
        messages: analytics.slice(start, start + SEND_SLICE).map(analyticsRecord),
      });
    }
  }

  private async release(key: string): Promise<void> {
    const owned = this.owned.get(key);
    this.owned.delete(key);
    await (await owned?.producer.catch(() => undefined))?.disconnect().catch(() => undefined);
  }

  private ownedPartition(key: string): OwnedPartition {
    const existing = this.owned.get(key);
    if (existing) return existing;
    const owned: OwnedPartition = { producer: this.registeredProducer(key) };
    owned.producer.catch(() => {
      if (this.owned.get(key) === owned) this.owned.delete(key);
    });
    this.owned.set(key, owned);
    return owned;
  }

  /**
   * The partition's producer, its transactional id registered: that fences the previous owner
   * and settles its open transaction. The broker answers "concurrent transactions" until that
   * transaction is aborted, which after a broker restart can outlast kafkajs's retries (the
   * coordinator writes the abort only once the output partitions are back): waited out here, up
   * to SETTLE_PREVIOUS_TRANSACTION_MS, with a fresh producer each time.
   */
  private registeredProducer(key: string): Promise<Producer> {
    return whileSettling(() => this.registerOnce(key), {
      ...REGISTRATION_SETTLING,
      onWait: () =>
        this.options.logger.info(
          { partition: key },
          "waiting for the broker to settle the partition's previous transaction",
        ),
    });
  }

  private async registerOnce(key: string): Promise<Producer> {
    const producer = this.options.kafka.producer({
      transactionalId: `${this.options.transactionalIdPrefix}-${key}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: TRANSACTION_TIMEOUT_MS,
    });
    try {
      await producer.connect();
      // kafkajs registers the transactional id only at the first transaction, not on connect.
      await (await producer.transaction()).abort();
      return producer;
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }
}

/** How long registering a transactional id waits for its previous transaction to be settled. */
export const SETTLE_PREVIOUS_TRANSACTION_MS = 4 * TRANSACTION_TIMEOUT_MS;

interface Settling {
  /** How long to go on trying. */
  withinMs: number;
  startingDelay: number;
  maxDelay: number;
  onWait?: () => void;
}

/** A fresh producer every 2 s: the previous owner's abort waits for the output partitions. */
const REGISTRATION_SETTLING: Settling = {
  withinMs: SETTLE_PREVIOUS_TRANSACTION_MS,
  startingDelay: 2_000,
  maxDelay: 2_000,
};

/** Writing a commit's markers takes milliseconds, longer on a busy broker; as the Java client. */
const OFFSETS_SETTLING: Settling = {
  withinMs: TRANSACTION_TIMEOUT_MS,
  startingDelay: 20,
  maxDelay: 1_000,
};

/**
 * Tries `attempt` again while the broker answers "concurrent transactions", that is while it is
 * still settling the transactional id's previous transaction; any other error fails at once.
 */
function whileSettling<T>(attempt: () => Promise<T>, settling: Settling): Promise<T> {
  const deadline = Date.now() + settling.withinMs;
  return backOff(attempt, {
    numOfAttempts: Infinity,
    startingDelay: settling.startingDelay,
    maxDelay: settling.maxDelay,
    timeMultiple: 2,
    retry: (error) => {
      if (!isConcurrentTransactions(error) || Date.now() >= deadline) return false;
      settling.onWait?.();
      return true;
    },
  });
}

/** The broker's "concurrent transactions" answer, as is or as kafkajs throws it once its retries ran out. */
function isConcurrentTransactions(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause)
    if (cause instanceof KafkaJSProtocolError && cause.type === 'CONCURRENT_TRANSACTIONS')
      return true;
  return false;
}
