import { OPEN_CHUNK_STALE_AFTER_MS, type ChunkWriter } from '@assigner/persistence';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenChunkTakeover } from '../open-chunk-takeover';
import type { ReplayReporter } from './replay-run';

/** How often to look again at chunks other replays have open. */
const POLL_MS = 2_000;

/** What a replay published for other replays: the `recovered` of its summary. */
export interface Recovered {
  chunks: number;
  messages: number;
  deadLetters: number;
}

export const NOTHING_RECOVERED: Recovered = { chunks: 0, messages: 0, deadLetters: 0 };

/**
 * Before a replay stores anything: publishes what other replays stored but did not commit (this
 * run's own unfinished chunk it applies again itself, see `OpenChunkTakeover`). Chunks other
 * replays are still at work on are waited for: they commit, or their writer stops and they are
 * taken over once quiet.
 */
export async function takeOverOpenChunks(
  takeover: OpenChunkTakeover,
  mine: ChunkWriter,
  reporter: ReplayReporter,
): Promise<Recovered> {
  const recovered = { ...NOTHING_RECOVERED };
  let waitingFor: Set<string> | undefined;
  for (;;) {
    const report = await takeover.takeOver(mine);
    recovered.chunks += report.published;
    recovered.messages += report.messages;
    recovered.deadLetters += report.deadLetters;
    if (report.published > 0)
      reporter.notice(
        `published ${report.messages} messages and ${report.deadLetters} dead letters of ${report.published} chunks earlier replays stored but did not commit`,
      );
    // Only those seen open at the start: a live replay opens new chunks all the time.
    const live = report.live.filter(({ _id }) => waitingFor === undefined || waitingFor.has(_id));
    if (live.length === 0) return recovered;
    if (!waitingFor) {
      waitingFor = new Set(live.map(({ _id }) => _id));
      const writers = [...new Set(live.map(({ writer }) => writer.transactionalIdPrefix))];
      reporter.notice(
        `waiting for ${writers.join(', ')} to commit the chunks it has open, or to be quiet for ${OPEN_CHUNK_STALE_AFTER_MS / 1000} s and be taken over`,
      );
    }
    await sleep(POLL_MS);
  }
}
