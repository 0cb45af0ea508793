import { AssignmentCounter, type AssignmentTally, type CountedAssignment } from '@assigner/domain';
import type { Collection, Db } from 'mongodb';
import type { AssignmentDocument } from './learner-state.documents';
import { retryTransient } from './mongo-errors';

/** Copies a count reads per round trip: few round trips, and memory for one batch only. */
const COUNT_BATCH_SIZE = 10_000;

/**
 * Counts an experiment's current assignments from their lookup copies, read one batch at a time
 * and counted in this process. Not a `$group`: FerretDB evaluates one itself, document by
 * document and all in its memory (80 s and 10 GB for 1M copies), where reading them takes as long
 * and nothing piles up. MongoDB would group faster; this reads the same there and stays correct.
 */
export class AssignmentCountsQuery {
  private readonly assignments: Collection<AssignmentDocument>;

  constructor(db: Db) {
    this.assignments = db.collection('assignments');
  }

  /** A transient store error starts the count again. */
  count(experiment: string): Promise<AssignmentTally> {
    return retryTransient(() => this.countOnce(experiment));
  }

  private async countOnce(experiment: string): Promise<AssignmentTally> {
    const counter = new AssignmentCounter();
    const copies = this.assignments.find<CountedAssignment>(
      { experiment },
      {
        projection: {
          _id: 0,
          courseId: 1,
          bucket: 1,
          reason: 1,
          firstDecidedAt: 1,
          lastDecidedAt: 1,
        },
        batchSize: COUNT_BATCH_SIZE,
      },
    );
    for await (const copy of copies) counter.add({ ...copy, courseId: copy.courseId ?? null });
    return counter.tally();
  }
}
