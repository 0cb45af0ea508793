import type { BatchResult } from '@assigner/pipeline';

export interface ExperimentDifference {
  newAssignments: number;
  changedBuckets: number;
}

/** What a replay read and what difference it made (or, dry, would make) to the store. */
export interface ReplayTotals {
  lines: number;
  enrollments: number;
  pageViews: number;
  ignored: number;
  invalid: number;
  /** Events outside --from-time/--to-time. */
  filtered: number;
  newAssignments: number;
  changedBuckets: number;
  /** Analytics messages published (0 with --no-publish or --dry-run). */
  published: number;
  /** Invalid lines sent to the dead-letter topic (`--dead-letters`). */
  deadLettered: number;
  experiments: Record<string, ExperimentDifference>;
}

export function emptyTotals(experiments: readonly string[]): ReplayTotals {
  return {
    lines: 0,
    enrollments: 0,
    pageViews: 0,
    ignored: 0,
    invalid: 0,
    filtered: 0,
    newAssignments: 0,
    changedBuckets: 0,
    published: 0,
    deadLettered: 0,
    experiments: Object.fromEntries(
      experiments.map((name) => [name, { newAssignments: 0, changedBuckets: 0 }]),
    ),
  };
}

/** Adds a chunk: its lines, what it changed, and what of it was sent to Kafka. */
export function addBatch(
  totals: ReplayTotals,
  lines: number,
  result: BatchResult,
  sent: { analytics: number; deadLetters: number },
): void {
  totals.lines += lines;
  for (const key of ['enrollments', 'pageViews', 'ignored', 'invalid', 'filtered'] as const)
    totals[key] += result.counts[key];
  for (const { assignment, change } of result.changes) {
    const difference = (totals.experiments[assignment.experiment] ??= {
      newAssignments: 0,
      changedBuckets: 0,
    });
    if (change.version === 0) {
      totals.newAssignments += 1;
      difference.newAssignments += 1;
    } else {
      totals.changedBuckets += 1;
      difference.changedBuckets += 1;
    }
  }
  totals.published += sent.analytics;
  totals.deadLettered += sent.deadLetters;
}
