import { randomUUID } from 'node:crypto';
import type { AppConfig } from '@assigner/config';
import type { DeadLetter, InboundMessage, WriteAheadLog } from '@assigner/contracts';
import type { Experiment, LearnerAttributesLookup, LearnerEvent } from '@assigner/domain';
import type { TransactionalOutput } from '@assigner/messaging';
import type { ChunkWriter, OpenChunkRepository } from '@assigner/persistence';
import type { BatchAssigner, BatchResult } from '@assigner/pipeline';
import type { ReplayCheckpoint } from './replay-checkpoint';
import type { ReplayTotals } from './replay-totals';

/** Told how a replay advances, for people: a progress bar, lines on stderr. */
export interface ReplayReporter {
  /** A line worth telling (resuming, waiting for another replay, what was recovered). */
  notice(text: string): void;
  /** Reading began: `total` bytes of files, or messages of a topic. */
  begin(total: number): void;
  /** `done` of the total, and the lines or messages applied so far. */
  advance(done: number, applied: number): void;
  end(): void;
}

/** What each way of reading history needs from the replay around it. */
export interface ReplayRun {
  runId: string;
  assigner: BatchAssigner;
  experiments: readonly Experiment[];
  /** Staff and superusers as the last LMS export loaded says, read when the replay began. */
  attributes: LearnerAttributesLookup;
  accept: (event: LearnerEvent) => boolean;
  /** When publishing. */
  output?: ReplayOutput;
  /** Resolves once the topics the output publishes to exist. */
  topicsReady: Promise<unknown>;
  /** Send invalid lines of files to the dead-letter topic, saying which file and line. */
  deadLetters: boolean;
  /** Where file progress is committed: partition 0 of the analytics topic, in the replay's group. */
  progressTopic: string;
  totals: ReplayTotals;
  chunkSize: number;
  /** A dry run writes nothing: no state, no checkpoint, no offsets. */
  dryRun: boolean;
  /** Aborted by an interrupt: finish the chunk in hand, record it, stop. */
  interrupt: AbortSignal;
  reporter: ReplayReporter;
  /** Records progress after each chunk (not in a dry run). */
  save(progress: ReplayCheckpoint['progress']): void;
}

/** Where a publishing replay's chunks go: its transactions, and the record of its open chunks. */
export interface ReplayOutput {
  transactions: TransactionalOutput;
  openChunks: OpenChunkRepository;
  writer: ChunkWriter;
}

/** The replay's own consumer group: its progress, committed with its messages. */
export const replayGroupId = (config: Pick<AppConfig, 'KAFKA_CLIENT_ID'>, runId: string): string =>
  `${config.KAFKA_CLIENT_ID}-replay-${runId}`;

/**
 * The position source under which a resumed run applies again what another writer published
 * past its checkpoint: the one an earlier pass over the same published progress chose (what that
 * pass stored under it and did not commit is then re-emitted), or a new one.
 */
export function catchUpSource(
  runId: string,
  earlier: { source?: string; to?: number },
  published: number,
  suffix = '',
): string {
  return earlier.source !== undefined && earlier.to === published
    ? earlier.source
    : `replay:${runId}/${randomUUID().slice(0, 8)}${suffix}`;
}

/**
 * Decides and stores a chunk; when publishing, in one transaction with the chunk's progress (the
 * input's next offset), its messages going out while the store writes the lookup copies. The
 * chunk is recorded as open before its states are stored and closed once committed: if this
 * process cannot commit it, another writer publishes what it stored (see `OpenChunkTakeover`).
 * Resolves once committed, with the dead letters published (or, when not publishing, that would
 * have been).
 */
export async function applyChunk(
  run: ReplayRun,
  progress: { topic: string; partition: number; nextOffset: number },
  messages: readonly InboundMessage[],
  deadLettersOf: (deadLetters: readonly DeadLetter[]) => DeadLetter[],
): Promise<{ result: BatchResult; deadLetters: DeadLetter[] }> {
  const options = { accept: run.accept, attributes: run.attributes };
  if (!run.output) {
    const result = await run.assigner.process(messages, run.experiments, options);
    return { result, deadLetters: deadLettersOf(result.deadLetters) };
  }
  await run.topicsReady;
  const first = messages[0]?.position ?? {
    source: `replay:${run.runId}`,
    offset: progress.nextOffset,
  };
  const { transactions, openChunks, writer } = run.output;
  const chunk = openChunks.begin(writer, progress, { source: first.source, from: first.offset });
  // The chunk's record holds the dead letters as this replay publishes them.
  const writeAhead: WriteAheadLog = {
    record: ({ learners, deadLetters }) => chunk.record(learners, deadLettersOf(deadLetters)),
  };
  try {
    const transaction = await transactions.begin(progress.topic, progress.partition);
    try {
      const result = await run.assigner.process(messages, run.experiments, {
        ...options,
        output: transaction,
        writeAhead,
      });
      const deadLetters = deadLettersOf(result.deadLetters);
      await transaction.commit({ nextOffset: String(progress.nextOffset), deadLetters });
      await chunk.commit();
      return { result, deadLetters };
    } catch (error) {
      await transaction.abort();
      throw error;
    }
  } catch (error) {
    await chunk.abort();
    throw error;
  }
}
