import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export type BatchHandler = (payload: EachBatchPayload) => Promise<void>;

/** How long a consumer that stopped on an error kafkajs does not retry waits to start again. */
const RESTART_AFTER_MS = 5_000;

export interface KafkaBatchServerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  handleBatch: BatchHandler;
  /** Partitions handled at once; each partition's batches stay in order. */
  partitionsConsumedConcurrently: number;
  /** The most bytes one partition's batch holds; a fetch holds this per partition handled at once. */
  batchMaxBytes: number;
  logger: Logger;
  /** Runs after the consumer has left the group, e.g. to close producers. */
  afterStop?: () => Promise<void>;
  /** Runs after each (re)join of the group, before the new assignment's batches. */
  onGroupJoin?: () => Promise<void>;
}

/**
 * A Nest transport that hands whole batches to one handler with automatic commits off. The
 * stock Kafka transport works message by message and commits on its own; exactly-once output
 * needs the handler to commit offsets inside its own producer transaction instead.
 */
export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  private consumer: Consumer | undefined;
  private joined = false;
  private closing = false;
  private restart: NodeJS.Timeout | undefined;

  constructor(private readonly options: KafkaBatchServerOptions) {
    super();
  }

  /** True once this worker holds a place in the consumer group. */
  get hasJoinedGroup(): boolean {
    return this.joined;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private async start(): Promise<void> {
    const { kafka, groupId, topics, handleBatch, logger } = this.options;
    const { batchMaxBytes, partitionsConsumedConcurrently } = this.options;
    // A short fetch wait lets a stopping worker leave the group quickly.
    const consumer = kafka.consumer({
      groupId,
      rebalanceTimeout: 30_000,
      sessionTimeout: 10_000,
      maxWaitTimeInMs: 500,
      ...batchFetchLimits(batchMaxBytes, partitionsConsumedConcurrently),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      void this.options
        .onGroupJoin?.()
        .catch((error: unknown) => logger.warn({ err: error }, 'group join hook failed'));
      logger.info(
        { groupId, memberId: payload.memberId, assignment: payload.memberAssignment },
        'joined consumer group',
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      // kafkajs restarts the consumer only after errors it retries; after others (no group
      // coordinator for longer than its retries last, as when the broker restarts slowly) the
      // worker would live on without consuming.
      if (!payload.restart && consumer === this.consumer) this.restartLater(consumer);
    });
    consumer.on(consumer.events.STOP, () => {
      this.joined = false;
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: handleBatch,
    });
  }

  private restartLater(crashed: Consumer): void {
    if (this.closing || this.restart) return;
    this.restart = setTimeout(() => {
      this.restart = undefined;
      if (this.closing) return;
      const { logger } = this.options;
      logger.warn({ afterMs: RESTART_AFTER_MS }, 'starting the consumer again');
      void crashed
        .disconnect()
        .catch(() => undefined)
        .then(() => (this.closing ? undefined : this.start()))
        .catch((error: unknown) => {
          logger.error({ err: error }, 'the consumer did not start again; trying later');
          if (this.consumer) this.restartLater(this.consumer);
        });
    }, RESTART_AFTER_MS);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restart);
    // disconnect() lets the batch in hand finish, then leaves the group.
    await this.consumer?.disconnect();
    this.joined = false;
    await this.options.afterStop?.();
  }

  on(): never {
    throw new Error('KafkaBatchServer delivers batches to its handler; it has no event listeners');
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('KafkaBatchServer is not listening yet');
    return this.consumer as T;
  }
}

/** A consumer's fetch limits for batches of at most `batchMaxBytes`, so many partitions at once. */
export function batchFetchLimits(
  batchMaxBytes: number,
  partitionsConsumedConcurrently: number,
): { maxBytesPerPartition: number; maxBytes: number } {
  return {
    maxBytesPerPartition: batchMaxBytes,
    maxBytes: batchMaxBytes * partitionsConsumedConcurrently,
  };
}
