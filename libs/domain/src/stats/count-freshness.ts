/**
 * Counting reads every assignment of an experiment, so a count that took long is not redone for
 * every request: it is reused for this many times its own duration, which keeps recounting to at
 * most a tenth of the store's time however often the stats are asked for.
 */
export const COUNT_REUSE_FACTOR = 10;

/** Counts quicker than this are redone for every request, so that small experiments read exact. */
export const COUNT_ALWAYS_REDONE_UNDER_MS = 1_000;

export interface CountTiming {
  countedAt: Date;
  durationMs: number;
}

/** Whether a count made earlier may answer now instead of a new one. */
export function countIsCurrent(count: CountTiming, now: Date): boolean {
  if (count.durationMs < COUNT_ALWAYS_REDONE_UNDER_MS) return false;
  return now.getTime() - count.countedAt.getTime() < COUNT_REUSE_FACTOR * count.durationMs;
}
