import {
  formatMicros,
  type AssignmentRecord,
  type BucketChange,
  type Decision,
  type ExperimentCounts,
  type Explanation,
  type ExplanationStep,
} from '@assigner/domain';
import { analyticsMessageOf } from '../outbound/analytics-message';

/** The JSON shapes the admin API answers with: times as ISO-8601, no store internals. */

/** An assignment with ISO times; its history without store positions, with message ids. */
export interface AssignmentView extends Omit<
  AssignmentRecord,
  'firstDecidedAt' | 'lastDecidedAt' | 'history'
> {
  firstDecidedAt: string;
  lastDecidedAt: string;
  /** Every bucket this assignment was in, with the id of the analytics message that reported it. */
  history: (Omit<BucketChange, 'at' | 'position'> & { at: string; messageId: string })[];
}

export function assignmentView(assignment: AssignmentRecord): AssignmentView {
  return {
    experiment: assignment.experiment,
    courseId: assignment.courseId,
    userId: assignment.userId,
    username: assignment.username,
    bucket: assignment.bucket,
    reason: assignment.reason,
    version: assignment.version,
    firstDecidedAt: formatMicros(assignment.firstDecidedAt),
    lastDecidedAt: formatMicros(assignment.lastDecidedAt),
    history: assignment.history.map((change) => ({
      version: change.version,
      bucket: change.bucket,
      reason: change.reason,
      at: formatMicros(change.at),
      site: change.site,
      isStaff: change.isStaff,
      messageId: analyticsMessageOf(assignment, change).messageId,
    })),
  };
}

type TimedStep<S> = S extends { enrolledAt?: number }
  ? Omit<S, 'enrolledAt'> & { enrolledAt?: string }
  : S;
export type ExplanationStepView = TimedStep<ExplanationStep>;

export interface ExplanationView {
  decision: Decision;
  steps: ExplanationStepView[];
}

export function explanationView(explanation: Explanation): ExplanationView {
  return {
    decision: explanation.decision,
    steps: explanation.steps.map((step) =>
      step.check === 'enrollment_window' && step.enrolledAt !== undefined
        ? { ...step, enrolledAt: formatMicros(step.enrolledAt) }
        : (step as ExplanationStepView),
    ),
  };
}

export interface StatsView extends ExperimentCounts {
  experiment: string;
  numBuckets: number;
  firstAssignedAt: string | null;
  lastAssignedAt: string | null;
  /** When the count these figures come from began. */
  countedAt: string;
  /** A newer count is under way. */
  recounting: boolean;
}

export function statsView(
  experiment: string,
  numBuckets: number,
  counts: ExperimentCounts,
  count: { first?: number; last?: number; countedAt: Date },
  recounting: boolean,
): StatsView {
  return {
    experiment,
    numBuckets,
    ...counts,
    firstAssignedAt: count.first === undefined ? null : formatMicros(count.first),
    lastAssignedAt: count.last === undefined ? null : formatMicros(count.last),
    countedAt: count.countedAt.toISOString(),
    recounting,
  };
}
