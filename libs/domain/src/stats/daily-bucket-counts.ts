import type { Micros } from '../time/iso-time';

/** How many assignments entered one bucket on one UTC day (the day their bucket was decided). */
export interface DailyBucketCountRow {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  bucket: number;
  count: number;
}

export interface DailyBucketCounts {
  /** Every day from the first to the last with an assignment, in order, days without any too. */
  days: string[];
  /** Per bucket (index = bucket number), the assignments of each day of `days`. */
  buckets: number[][];
}

const DAY_MS = 86_400_000;

/** The UTC day of a time, as `YYYY-MM-DD`. */
export function utcDayOf(micros: Micros): string {
  return new Date(Math.floor(micros / 1000)).toISOString().slice(0, 10);
}

/**
 * Daily rows as one series per bucket over a continuous range of days, so that a chart shows a
 * day with no assignments as 0 rather than skipping it. Buckets without rows are all zeros.
 */
export function dailyBucketSeries(
  numBuckets: number,
  rows: readonly DailyBucketCountRow[],
): DailyBucketCounts {
  const size = rows.reduce((most, row) => Math.max(most, row.bucket + 1), numBuckets);
  if (rows.length === 0) return { days: [], buckets: Array.from({ length: size }, () => []) };
  const times = rows.map((row) => Date.parse(`${row.day}T00:00:00Z`));
  const first = times.reduce((a, b) => Math.min(a, b));
  const last = times.reduce((a, b) => Math.max(a, b));
  const days: string[] = [];
  for (let time = first; time <= last; time += DAY_MS)
    days.push(new Date(time).toISOString().slice(0, 10));
  const buckets = Array.from({ length: size }, () => new Array<number>(days.length).fill(0));
  rows.forEach((row, index) => {
    buckets[row.bucket]![(times[index]! - first) / DAY_MS]! += row.count;
  });
  return { days, buckets };
}
