import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReplayTotals } from './replay-totals';

/** What a replay has done so far, per input: lines of files, or offsets per topic partition. */
export interface ReplayProgress {
  lines?: number;
  /**
   * The position source a file replay applies lines under: `replay:<run id>`, or a new one after
   * another writer published past the checkpoint (see `replayFiles`).
   */
  source?: string;
  /**
   * The progress published past the checkpoint when `source` was chosen to apply it again under
   * (see `replayFiles`): while it is still what is published, a resumed run goes on under that
   * source, so that what an interrupted pass stored under it is re-emitted.
   */
  catchUpTo?: number;
  /** A topic replay: the next offset to read, per partition. */
  partitions?: Record<string, number>;
  /**
   * A topic replay: per partition, the position source it applies messages under, and the
   * published progress when it was chosen (as `source` and `catchUpTo` for files).
   */
  sources?: Record<string, { source: string; to: number }>;
}

export interface ReplayCheckpoint {
  version: 1;
  /** Identifies the command (inputs and options); a checkpoint of another command is not used. */
  key: string;
  /** The run being resumed: its positions in learner states and its Kafka transactional ids. */
  runId: string;
  startedAt: string;
  done: boolean;
  progress: ReplayProgress;
  /** What the run did up to this checkpoint, for the summary of a resumed run. */
  totals: ReplayTotals;
}

/** A short stable key for the things that make two replay commands the same replay. */
export function checkpointKey(identity: unknown): string {
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}

/** A checkpoint kept in a JSON file, replaced whole (write then rename) so it is never half-written. */
export class CheckpointFile {
  constructor(readonly path: string) {}

  read(key: string): ReplayCheckpoint | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return undefined;
    }
    const checkpoint = JSON.parse(text) as ReplayCheckpoint;
    return checkpoint.version === 1 && checkpoint.key === key ? checkpoint : undefined;
  }

  write(checkpoint: ReplayCheckpoint): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
    renameSync(temporary, this.path);
  }
}
