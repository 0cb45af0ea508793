import type { Collection, Db } from 'mongodb';
import { isDuplicateKey, retryTransient } from './mongo-errors';

interface HighestLearnerIdDocument {
  /** An input partition, as positions name it (`<topic>/<partition>`). */
  _id: string;
  userId: number;
}

/**
 * Per input partition, the highest user id among its learners known to be stored
 * (`highest_learner_ids`). Input is keyed by learner and Open edX user ids only grow, so a learner
 * above their partition's mark is almost always new (a sign-up's first enrollment, a fresh store):
 * a worker need not read them. It is a hint, never trusted for correctness: a learner presumed
 * new whose state exists (another topic or a replay stored it, a raise was lost) already has
 * version 0, so saving them is a conflict and they are read then. A partition without a mark
 * presumes every learner new once: its first batch on a store that holds its learners conflicts
 * on each, and the mark then rises past most of them.
 */
export class HighestLearnerIds {
  private readonly collection: Collection<HighestLearnerIdDocument>;

  constructor(db: Db) {
    this.collection = db.collection('highest_learner_ids');
  }

  /** The partition's mark; 0 before its first learner is stored. */
  async of(source: string): Promise<number> {
    const found = await retryTransient(() => this.collection.findOne({ _id: source }));
    return found?.userId ?? 0;
  }

  /**
   * Once the partition's learners up to `userId` are stored. `$max` is atomic on MongoDB; on
   * FerretDB two raises can lose one, which leaves a mark too low: a conflict more, nothing wrong.
   */
  async raise(source: string, userId: number): Promise<void> {
    const raise = (upsert: boolean) =>
      retryTransient(() =>
        this.collection.updateOne({ _id: source }, { $max: { userId } }, { upsert }),
      );
    try {
      await raise(true);
    } catch (error) {
      // Another writer made the partition's mark first: raise theirs.
      if (!isDuplicateKey(error)) throw error;
      await raise(false);
    }
  }
}
