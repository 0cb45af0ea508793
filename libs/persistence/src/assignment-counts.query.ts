import type { BucketCountRow, BucketedReason, Micros } from '@assigner/domain';
import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { AssignmentDocument } from './learner-state.documents';
import { retryTransient } from './mongo-errors';

/**
 * How long a count may run in the store before it gives up. Counts read every copy of the
 * experiment: on FerretDB they run in FerretDB itself, 80 s and 10 GB of its memory for 1M copies,
 * which a timed-out client would leave running; MongoDB aggregates 1M small documents in seconds.
 */
export const COUNT_TIME_LIMIT_MS = 15_000;

/** The store stopped a count at COUNT_TIME_LIMIT_MS. */
export class CountTimeLimitExceeded extends Error {
  override readonly name = 'CountTimeLimitExceeded';
}

/** MongoDB's MaxTimeMSExpired, which FerretDB answers too. */
const MAX_TIME_EXPIRED = 50;

async function limited<T>(count: () => Promise<T>): Promise<T> {
  try {
    return await retryTransient(count);
  } catch (error) {
    if (error instanceof MongoServerError && error.code === MAX_TIME_EXPIRED)
      throw new CountTimeLimitExceeded(
        `counting took longer than ${COUNT_TIME_LIMIT_MS / 1000} s in the store`,
      );
    throw error;
  }
}

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
    const groups = await limited(() =>
      this.assignments
        .aggregate<{
          _id: { courseId: string | null; bucket: number; reason: BucketedReason };
          count: number;
        }>(
          [
            { $match: { experiment } },
            {
              $group: {
                _id: { courseId: '$courseId', bucket: '$bucket', reason: '$reason' },
                count: { $sum: 1 },
              },
            },
          ],
          { maxTimeMS: COUNT_TIME_LIMIT_MS },
        )
        .toArray(),
    );
    return groups.map(({ _id, count }) => ({ ..._id, courseId: _id.courseId ?? null, count }));
  }

  /** When the experiment's earliest assignment was first decided, and its latest last changed. */
  async decidedRange(experiment: string): Promise<{ first?: Micros; last?: Micros }> {
    const edge = async (field: 'firstDecidedAt' | 'lastDecidedAt', direction: 1 | -1) => {
      const [document] = await limited(() =>
        this.assignments
          .find({ experiment }, { projection: { [field]: 1 }, maxTimeMS: COUNT_TIME_LIMIT_MS })
          .sort({ [field]: direction })
          .limit(1)
          .toArray(),
      );
      return document?.[field];
    };
    return { first: await edge('firstDecidedAt', 1), last: await edge('lastDecidedAt', -1) };
  }
}
