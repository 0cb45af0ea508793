import { analyticsMessageOf, type AnalyticsMessage, type DeadLetter } from '@assigner/contracts';
import { ensureTopics, TransactionalOutput } from '@assigner/messaging';
import {
  groupBy,
  OPEN_CHUNK_STALE_AFTER_MS,
  TAKEN_OVER_WATCH_MS,
  type ChunkWriter,
  type LearnerStateRepository,
  type OpenChunkDocument,
  type OpenChunkRepository,
} from '@assigner/persistence';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export interface OpenChunkTakeoverOptions {
  kafka: Kafka;
  brokers: readonly string[];
  clientId: string;
  /** `TOPIC_PARTITIONS`, for a writer's topics that are missing (a dead-letter topic never made). */
  topicPartitions: number;
  logger: Logger;
}

/** One writer's progress partition, with its open chunks. */
interface OpenPartition {
  writer: ChunkWriter;
  topic: string;
  partition: number;
  documents: OpenChunkDocument[];
}

export interface TakeoverReport {
  /** Chunks whose stored changes this takeover published. */
  published: number;
  messages: number;
  deadLetters: number;
  /** Chunks of writers still at work on them, left to them. */
  live: OpenChunkDocument[];
}

/**
 * Publishes what writers that are gone stored but did not get committed: every stored bucket
 * change then has its message, once. A writer records each chunk before storing it (see
 * `OpenChunkRepository`); a chunk whose writer gave up on it or went quiet is taken over, but
 * never the caller's own (`mine`): a resumed replay applies its unfinished chunk again itself,
 * which also applies the events the chunk had not stored yet. Taking over: creating the writer's
 * transactional producer fences it and settles its open transaction, the stable read of its
 * committed progress tells whether the chunk committed, and if not, its changes, read back from
 * its learners' stored states, and its dead letters are published in the writer's own
 * transaction with the chunk's progress. Two takers of the same chunk fence each other, so at
 * most one commits it.
 */
export class OpenChunkTakeover {
  constructor(
    private readonly chunks: OpenChunkRepository,
    private readonly states: LearnerStateRepository,
    private readonly options: OpenChunkTakeoverOptions,
  ) {}

  async takeOver(mine?: ChunkWriter): Promise<TakeoverReport> {
    const report: TakeoverReport = {
      published: 0,
      messages: 0,
      deadLetters: 0,
      live: [],
    };
    const now = Date.now();
    const staleBefore = now - OPEN_CHUNK_STALE_AFTER_MS;
    const partitions = openPartitions(await this.chunks.all()).flatMap((open) =>
      open.writer.transactionalIdPrefix === mine?.transactionalIdPrefix
        ? onlyTakenOver(open)
        : [open],
    );
    for (const open of partitions) {
      // One document still being kept alive, not given up on: its writer is at work on the chunk.
      const left = open.documents.every(
        ({ abandoned, aliveAt }) => abandoned === true || aliveAt.getTime() < staleBefore,
      );
      if (left) await this.takeOverPartition(open, report, now);
      else report.live.push(...open.documents);
    }
    return report;
  }

  private async takeOverPartition(
    open: OpenPartition,
    report: TakeoverReport,
    now: number,
  ): Promise<void> {
    const { writer, topic, partition } = open;
    // A chunk taken over and not due for a check is left alone: claiming would fence its writer.
    const chunks = [...groupBy(open.documents, ({ progress }) => progress.nextOffset)]
      .map(([nextOffset, documents]) => ({
        nextOffset,
        documents,
        published: publishedOf(documents),
      }))
      .filter(({ documents, published }) => !published || dueForCheck(documents, published, now))
      .sort((a, b) => a.nextOffset - b.nextOffset);
    if (chunks.length === 0) return;
    const output = new TransactionalOutput({
      kafka: this.options.kafka,
      brokers: this.options.brokers,
      clientId: this.options.clientId,
      ...writer,
      logger: this.options.logger,
    });
    try {
      await ensureTopics(this.options.kafka, [
        {
          topic: writer.analyticsTopic,
          setting: 'ANALYTICS_TOPIC',
          numPartitions: this.options.topicPartitions,
        },
        {
          topic: writer.dlqTopic,
          setting: 'DLQ_TOPIC',
          numPartitions: this.options.topicPartitions,
        },
      ]);
      let committed = await output.claim(topic, partition);
      for (const { nextOffset, documents, published } of chunks) {
        if (nextOffset <= committed && !published) continue;
        // Not committed: all it stored. Committed by a takeover: what its writer stored since.
        const analytics = (await this.storedChanges(documents)).filter(
          ({ messageId }) => !published?.messageIds.has(messageId),
        );
        const deadLetters = published ? [] : uniqueDeadLetters(documents);
        if (analytics.length > 0 || deadLetters.length > 0 || nextOffset > committed) {
          const progress = Math.max(nextOffset, committed);
          await output.publish({
            topic,
            partition,
            analytics,
            nextOffset: String(progress),
            deadLetters,
          });
          this.options.logger.info(
            {
              writer: writer.transactionalIdPrefix,
              topic,
              partition,
              nextOffset,
              messages: analytics.length,
            },
            published
              ? "published what a chunk's writer stored after the chunk was taken over"
              : 'published a chunk its writer stored but did not commit',
          );
          report.published += 1;
          report.messages += analytics.length;
          report.deadLetters += deadLetters.length;
          committed = progress;
        }
        await this.settle(documents, published, analytics, now);
      }
      await this.chunks.closeCommitted(writer, { topic, partition }, committed);
    } finally {
      await output.close();
    }
  }

  /**
   * A chunk whose writer gave up on it is forgotten, as is one watched long enough; one whose
   * writer only went quiet is watched: it may be paused, and store more once it goes on.
   */
  private async settle(
    documents: readonly OpenChunkDocument[],
    published: Published | undefined,
    analytics: readonly AnalyticsMessage[],
    now: number,
  ): Promise<void> {
    const ids = documents.map(({ _id }) => _id);
    const takenOverAt = published?.at ?? new Date(now);
    const watched = now - takenOverAt.getTime() >= TAKEN_OVER_WATCH_MS;
    if (watched || documents.every(({ abandoned }) => abandoned === true))
      return this.chunks.forget(ids);
    await this.chunks.markTakenOver(ids, {
      at: takenOverAt,
      checkedAt: new Date(now),
      messageIds: [
        ...(published?.messageIds ?? []),
        ...analytics.map(({ messageId }) => messageId),
      ],
    });
  }

  /** The changes the chunk's learners' states hold at its positions, in the order of its events. */
  private async storedChanges(
    documents: readonly OpenChunkDocument[],
  ): Promise<AnalyticsMessage[]> {
    const madeHere = (position: { source: string; offset: number }) =>
      documents.some(
        ({ source, from, progress }) =>
          position.source === source &&
          position.offset >= from &&
          position.offset < progress.nextOffset,
      );
    const learners = [...new Set(documents.flatMap(({ learners }) => learners))];
    const changes = new Map<string, { offset: number; message: AnalyticsMessage }>();
    for (const state of (await this.states.latestStates(learners)).values())
      for (const assignment of state.assignments.values())
        for (const change of assignment.history)
          if (change.position && madeHere(change.position)) {
            const message = analyticsMessageOf(assignment, change);
            changes.set(message.messageId, { offset: change.position.offset, message });
          }
    return [...changes.values()].sort((a, b) => a.offset - b.offset).map(({ message }) => message);
  }
}

/** What a takeover published of a chunk, as recorded on its attempts. */
interface Published {
  at: Date;
  checkedAt: Date;
  messageIds: Set<string>;
}

function publishedOf(documents: readonly OpenChunkDocument[]): Published | undefined {
  const takenOver = documents.flatMap(({ takenOver }) => (takenOver ? [takenOver] : []));
  if (takenOver.length === 0) return undefined;
  return {
    at: new Date(Math.min(...takenOver.map(({ at }) => at.getTime()))),
    checkedAt: new Date(Math.min(...takenOver.map(({ checkedAt }) => checkedAt.getTime()))),
    messageIds: new Set(takenOver.flatMap(({ messageIds }) => messageIds)),
  };
}

/**
 * A chunk taken over is compared again with what is stored once its writer may have stored more:
 * it gave up on the chunk, went on (kept it alive, or recorded another attempt), or the watch ends.
 */
function dueForCheck(
  documents: readonly OpenChunkDocument[],
  published: Published,
  now: number,
): boolean {
  return (
    now - published.at.getTime() >= TAKEN_OVER_WATCH_MS ||
    documents.some(
      ({ abandoned, aliveAt, takenOver }) =>
        abandoned === true ||
        takenOver === undefined ||
        aliveAt.getTime() > published.checkedAt.getTime(),
    )
  );
}

/**
 * Of the caller's own partition, the chunks another writer took over: the caller applies its
 * other unfinished chunks again itself, but not what its earlier process stored after a takeover.
 */
function onlyTakenOver(open: OpenPartition): OpenPartition[] {
  const chunks = new Set(
    open.documents.filter(({ takenOver }) => takenOver).map(({ progress }) => progress.nextOffset),
  );
  const documents = open.documents.filter(({ progress }) => chunks.has(progress.nextOffset));
  return documents.length > 0 ? [{ ...open, documents }] : [];
}

function openPartitions(documents: readonly OpenChunkDocument[]): OpenPartition[] {
  const byPartition = groupBy(
    documents,
    ({ writer, progress }) =>
      `${writer.transactionalIdPrefix}\n${progress.topic}\n${progress.partition}`,
  );
  return [...byPartition.values()].map((group) => ({
    writer: group[0]!.writer,
    topic: group[0]!.progress.topic,
    partition: group[0]!.progress.partition,
    documents: group,
  }));
}

/** Each dead letter once, though several attempts at its chunk recorded it. */
function uniqueDeadLetters(documents: readonly OpenChunkDocument[]): DeadLetter[] {
  const byPosition = new Map<string, DeadLetter>();
  for (const deadLetter of documents.flatMap(({ deadLetters }) => deadLetters)) {
    const { source, offset } = deadLetter.message.position;
    byPosition.set(`${source}\n${offset}`, deadLetter);
  }
  return [...byPosition.values()].sort(
    (a, b) => a.message.position.offset - b.message.position.offset,
  );
}
