import type { UserState } from '@assigner/domain';

// A port: what the pipeline needs of a learner-state store, below both the pipeline and the
// adapters that implement it (persistence's MongoDB repository, the pipeline's memory store).

/**
 * Learners as a store loaded them: their states, to apply events to. What else the store needs
 * to save them (the versions it loaded) is its own, on the object it hands out.
 */
export interface LoadedLearners {
  readonly states: Map<number, UserState>;
}

/** Learner state storage as the pipeline needs it: load some learners, save what changed. */
export interface LearnerStateStore {
  /**
   * `fromStore`: as stored now, after a conflict; otherwise a store may answer from memory.
   * `source`: the input partition every one of these learners' events comes from, when they share
   * one; a store may then presume new, without reading them, learners it has reason to think it
   * never stored. A wrong presumption must be a conflict at save.
   */
  load(
    userIds: readonly number[],
    options?: { fromStore?: boolean; source?: string },
  ): Promise<LoadedLearners>;
  /**
   * Resolves once the states are stored, with the learners whose state another writer changed
   * since load (their states are not written), and the writes that follow from the stored states
   * (lookup copies), still under way. Resynced learners had changes redelivered: whatever the
   * store derives from their state is written again.
   */
  save(
    loaded: LoadedLearners,
    options: { resync: readonly number[] },
  ): Promise<{ conflicts: number[]; derived: Promise<void> }>;
}
