import type { BucketedReason } from '../decision/decide';
import { sampleRatioMismatch, type SampleRatioCheck } from './sample-ratio-mismatch';

/** How many assignments of one experiment are in one bucket, for one course and reason. */
export interface BucketCountRow {
  courseId: string | null;
  bucket: number;
  reason: BucketedReason;
  count: number;
}

export interface BucketCounts {
  total: number;
  /** Assignments per bucket, index = bucket number, forced ones included. */
  buckets: number[];
  /** Of those, how many a bucket flag forced. */
  forced: number[];
  /**
   * The chi-square check of the hashed assignments against an equal split. Forced ones are left
   * out: a bucket flag that puts all staff in bucket 1 is not a broken split. Null with fewer
   * than 2 buckets.
   */
  sampleRatio: SampleRatioCheck | null;
}

export interface ExperimentCounts extends BucketCounts {
  courses: ({ courseId: string | null } & BucketCounts)[];
}

function countsOf(numBuckets: number, rows: readonly BucketCountRow[]): BucketCounts {
  const size = Math.max(numBuckets, ...rows.map((row) => row.bucket + 1));
  const buckets = new Array<number>(size).fill(0);
  const forced = new Array<number>(size).fill(0);
  for (const row of rows) {
    buckets[row.bucket]! += row.count;
    if (row.reason === 'forced') forced[row.bucket]! += row.count;
  }
  const hashed = buckets.map((count, bucket) => count - forced[bucket]!);
  return {
    total: buckets.reduce((sum, count) => sum + count, 0),
    buckets,
    forced,
    sampleRatio: size < 2 ? null : sampleRatioMismatch(hashed),
  };
}

/**
 * Per-bucket counts of an experiment, overall and per course (courses in key order, the
 * course-less decisions of a global experiment as course null), each with its sample-ratio
 * check. Buckets without assignments count as 0, which is what makes a dead bucket a mismatch.
 */
export function summarizeBucketCounts(
  numBuckets: number,
  rows: readonly BucketCountRow[],
): ExperimentCounts {
  const byCourse = new Map<string | null, BucketCountRow[]>();
  for (const row of rows) {
    const course = byCourse.get(row.courseId);
    if (course) course.push(row);
    else byCourse.set(row.courseId, [row]);
  }
  const courses = [...byCourse.keys()]
    .sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map((courseId) => ({ courseId, ...countsOf(numBuckets, byCourse.get(courseId)!) }));
  return { ...countsOf(numBuckets, rows), courses };
}
