import type { AssignmentTally, CountTiming } from '@assigner/domain';
import type { Collection, Db } from 'mongodb';
import { retryTransient } from './mongo-errors';

/** An experiment's counts as of `countedAt` (when the count began), kept for the next requests. */
export interface CountSnapshot extends AssignmentTally, CountTiming {
  experiment: string;
}

interface CountSnapshotDocument extends Omit<CountSnapshot, 'experiment'> {
  _id: string;
}

/**
 * The latest count of each experiment, in `count_snapshots`, so that every admin API process and
 * a restarted one answer from it while a long count runs again. Any snapshot is a true count of
 * its time, so writers simply replace it; a reader keeps the newest it sees.
 */
export class CountSnapshotRepository {
  private readonly snapshots: Collection<CountSnapshotDocument>;

  constructor(db: Db) {
    this.snapshots = db.collection('count_snapshots');
  }

  async latest(experiment: string): Promise<CountSnapshot | null> {
    const document = await retryTransient(() => this.snapshots.findOne({ _id: experiment }));
    if (!document) return null;
    const { _id, rows, daily, first, last, countedAt, durationMs } = document;
    // Absent times are stored as null; counts saved before daily rows were kept have none.
    return {
      experiment: _id,
      rows,
      daily: daily ?? [],
      first: first ?? undefined,
      last: last ?? undefined,
      countedAt,
      durationMs,
    };
  }

  async save({ experiment, ...snapshot }: CountSnapshot): Promise<void> {
    await retryTransient(() =>
      this.snapshots.replaceOne({ _id: experiment }, snapshot, { upsert: true }),
    );
  }
}
