import type { BucketedReason } from '../decision/decide';
import type { Micros } from '../time/iso-time';
import type { BucketCountRow } from './bucket-counts';
import { utcDayOf, type DailyBucketCountRow } from './daily-bucket-counts';

/** What counting needs of one current assignment. */
export interface CountedAssignment {
  courseId: string | null;
  bucket: number;
  reason: BucketedReason;
  firstDecidedAt: Micros;
  lastDecidedAt: Micros;
}

/** An experiment's assignments counted per (course, bucket, reason), and their time range. */
export interface AssignmentTally {
  rows: BucketCountRow[];
  /** When the earliest assignment was first decided; undefined without assignments. */
  first?: Micros;
  /** When the latest change of a bucket was decided. */
  last?: Micros;
  /** Assignments per bucket by the UTC day their current bucket was decided. */
  daily: DailyBucketCountRow[];
}

/**
 * Counts assignments one at a time, so that memory holds one row per (course, bucket, reason)
 * and one per (day, bucket) whatever the number counted.
 */
export class AssignmentCounter {
  private readonly rows = new Map<string, BucketCountRow>();
  private readonly daily = new Map<string, DailyBucketCountRow>();
  private first?: Micros;
  private last?: Micros;

  add(assignment: CountedAssignment): void {
    const { courseId, bucket, reason } = assignment;
    const key = JSON.stringify([courseId, bucket, reason]);
    const row = this.rows.get(key);
    if (row) row.count += 1;
    else this.rows.set(key, { courseId, bucket, reason, count: 1 });
    const day = utcDayOf(assignment.lastDecidedAt);
    const dayKey = `${day}/${bucket}`;
    const dayRow = this.daily.get(dayKey);
    if (dayRow) dayRow.count += 1;
    else this.daily.set(dayKey, { day, bucket, count: 1 });
    if (this.first === undefined || assignment.firstDecidedAt < this.first)
      this.first = assignment.firstDecidedAt;
    if (this.last === undefined || assignment.lastDecidedAt > this.last)
      this.last = assignment.lastDecidedAt;
  }

  tally(): AssignmentTally {
    return {
      rows: [...this.rows.values()].map((row) => ({ ...row })),
      first: this.first,
      last: this.last,
      daily: [...this.daily.values()].map((row) => ({ ...row })),
    };
  }
}
