import { emptyUserState, type UserState } from '@assigner/domain';
import type { LearnerStateStore, LoadedLearners } from '@assigner/contracts';

/** Where learners not yet in memory come from: nowhere (a simulation) or a real store (a dry run). */
export interface LearnerStateSource {
  latestStates(userIds: readonly number[]): Promise<Map<number, UserState>>;
}

/**
 * Learners' states kept in memory: each is read once from the source (or starts empty), and load
 * hands out the live objects, so saving has nothing to do and every change stays in memory.
 */
export class MemoryLearnerStore implements LearnerStateStore {
  readonly users = new Map<number, UserState>();

  constructor(private readonly source?: LearnerStateSource) {}

  async load(userIds: readonly number[]): Promise<LoadedLearners> {
    const missing = userIds.filter((userId) => !this.users.has(userId));
    const stored =
      missing.length > 0 && this.source ? await this.source.latestStates(missing) : undefined;
    for (const userId of missing)
      this.users.set(userId, stored?.get(userId) ?? emptyUserState(userId));
    return { states: new Map(userIds.map((userId) => [userId, this.users.get(userId)!])) };
  }

  save(): Promise<{ conflicts: number[]; derived: Promise<void> }> {
    return Promise.resolve({ conflicts: [], derived: Promise.resolve() });
  }
}
