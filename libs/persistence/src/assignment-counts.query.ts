import type { BucketCountRow, BucketedReason, Micros } from '@assigner/domain';
import type { Collection, Db } from 'mongodb';
import type { AssignmentDocument } from './learner-state.documents';
import { retryTransient } from './mongo-errors';

/**
 * Counts over the assignments' lookup copies. FerretDB's `$group` knows only `$sum` and
 * `$count`, so the counts are one `$group` on (course, bucket, reason) and the first and last
 * decision times are two sorted single-document reads, which every MongoDB-wire store runs.
 */
export class AssignmentCountsQuery {
  private readonly assignments: Collection<AssignmentDocument>;

  constructor(db: Db) {
    this.assignments = db.collection('assignments');
  }

  async bucketCounts(experiment: string): Promise<BucketCountRow[]> {
    const groups = await retryTransient(() =>
      this.assignments
        .aggregate<{
          _id: { courseId: string | null; bucket: number; reason: BucketedReason };
          count: number;
        }>([
          { $match: { experiment } },
          {
            $group: {
              _id: { courseId: '$courseId', bucket: '$bucket', reason: '$reason' },
              count: { $sum: 1 },
            },
          },
        ])
        .toArray(),
    );
    return groups.map(({ _id, count }) => ({ ..._id, courseId: _id.courseId ?? null, count }));
  }

  /** When the experiment's earliest assignment was first decided, and its latest last changed. */
  async decidedRange(experiment: string): Promise<{ first?: Micros; last?: Micros }> {
    const edge = async (field: 'firstDecidedAt' | 'lastDecidedAt', direction: 1 | -1) => {
      const [document] = await retryTransient(() =>
        this.assignments
          .find({ experiment }, { projection: { [field]: 1 } })
          .sort({ [field]: direction })
          .limit(1)
          .toArray(),
      );
      return document?.[field];
    };
    return { first: await edge('firstDecidedAt', 1), last: await edge('lastDecidedAt', -1) };
  }
}
