import type { AppConfig } from '@assigner/config';
import type { AnalyticsMessage, DeadLetter, InboundMessage } from '@assigner/contracts';
import type { Experiment, LearnerEvent, UserState } from '@assigner/domain';
import type { TransactionalOutput } from '@assigner/messaging';
import type { BatchAssigner, BatchResult } from '@assigner/pipeline';
import type { ReplayCheckpoint } from './replay-checkpoint';
import type { ReplayTotals } from './replay-totals';

/** What each way of reading history needs from the replay around it. */
export interface ReplayRun {
  runId: string;
  assigner: BatchAssigner<{ states: Map<number, UserState> }>;
  experiments: readonly Experiment[];
  accept: (event: LearnerEvent) => boolean;
  output?: TransactionalOutput;
  /** Resolves once the topics the output publishes to exist. */
  topicsReady: Promise<void>;
  /** Send invalid lines of files to the dead-letter topic, saying which file and line. */
  deadLetters: boolean;
  /** Where file progress is committed: partition 0 of the analytics topic, in the replay's group. */
  progressTopic: string;
  totals: ReplayTotals;
  chunkSize: number;
  /** A dry run writes nothing: no state, no checkpoint, no offsets. */
  dryRun: boolean;
  /** Set by SIGINT: finish the chunk in hand, record it, stop. */
  interrupted: () => boolean;
  /** Records progress after each chunk (not in a dry run). */
  save: (progress: ReplayCheckpoint['progress']) => void;
}

/** The replay's own consumer group: its progress, committed with its messages. */
export const replayGroupId = (config: Pick<AppConfig, 'KAFKA_CLIENT_ID'>, runId: string): string =>
  `${config.KAFKA_CLIENT_ID}-replay-${runId}`;

/**
 * Decides and stores a chunk; when publishing, in one transaction with the chunk's progress (the
 * input's next offset), its messages going out while the store writes the lookup copies. Resolves
 * once committed, with the dead letters published (or, when not publishing, that would have been).
 */
export async function applyChunk(
  run: ReplayRun,
  progress: { topic: string; partition: number; nextOffset: number },
  messages: readonly InboundMessage[],
  deadLettersOf: (result: BatchResult) => DeadLetter[],
): Promise<{ result: BatchResult; deadLetters: DeadLetter[] }> {
  const decide = async (send?: (analytics: readonly AnalyticsMessage[]) => void) => {
    const result = await run.assigner.process(messages, run.experiments, {
      accept: run.accept,
      onDecided: send,
    });
    return { nextOffset: String(progress.nextOffset), deadLetters: deadLettersOf(result), result };
  };
  if (!run.output) return decide();
  await run.topicsReady;
  return run.output.publishAsDecided(progress.topic, progress.partition, decide);
}
