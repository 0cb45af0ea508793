import type { DeadLetter } from '../inbound/inbound-message';

// A port: implemented by a replay's open-chunk record (persistence), used by the pipeline.

/** What one attempt of a batch is about to store: its changed learners, and its dead letters. */
export interface StoreIntent {
  /** The learners whose changes the attempt stores or re-emits. */
  learners: readonly number[];
  /** The batch's dead letters, with its first attempt only. */
  deadLetters: readonly DeadLetter[];
}

/**
 * Told what a batch is about to store before it is stored, so that whoever must publish it if
 * the writer cannot (another replay, a worker) knows where to look. A failure stores nothing.
 */
export interface WriteAheadLog {
  record(intent: StoreIntent): Promise<void>;
}
