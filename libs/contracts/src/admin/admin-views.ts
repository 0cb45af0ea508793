import {
  dailyBucketSeries,
  formatMicros,
  type DailyBucketCountRow,
  type AssignmentRecord,
  type BucketChange,
  type Decision,
  type ExperimentCounts,
  type Experiment,
  type Explanation,
  type HoldoutRule,
  type LayerSlot,
  type ExplanationStep,
} from '@assigner/domain';
import { analyticsMessageOf } from '../outbound/analytics-message';

/** The JSON shapes the admin API answers with: times as ISO-8601, no store internals. */

/** An experiment as the API shows it: its definition (the shape `experiments apply` takes) and its state. */
export interface ExperimentView {
  name: string;
  revision: number;
  archived: boolean;
  updatedAt: string;
  updatedBy: string | null;
  definition: Experiment;
}

export type ExperimentAction = 'created' | 'updated' | 'archived' | 'restored';

/** One change of an experiment, from its audit trail. */
export interface RevisionView {
  revision: number;
  action: ExperimentAction;
  actor: string;
  at: string;
  before: { archived: boolean; definition: Experiment } | null;
  after: { archived: boolean; definition: Experiment };
}

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

/** Where a decision's staff and superuser attributes came from. */
export interface LearnerAttributesView {
  isStaff: boolean;
  isSuperuser: boolean;
  /**
   * `lms_export`: the LMS export loaded (`loadedBy`, `loadedAt`, `loadedFrom`); `query`: the
   * explain request's `is_staff=true`; `none`: no export names the learner.
   */
  source: 'lms_export' | 'query' | 'none';
  loadedBy?: string;
  loadedAt?: string;
  loadedFrom?: string;
}

/** An explanation with what it was made from, and the stored assignment to compare it with. */
export interface ExplainAnswer extends ExplanationView {
  experiment: string;
  revision: number;
  archived: boolean;
  userId: number;
  /** False when the store has no state for this learner (no event of theirs was applied). */
  learnerKnown: boolean;
  username: string | null;
  courseId: string | null;
  enrolledAt: string | null;
  at: string;
  learnerAttributes: LearnerAttributesView;
  stored: AssignmentView | null;
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
  /** The experiment's bucket version, when above 0. */
  bucketVersion?: number;
  /** The layer and share it owns, when in one. */
  layer?: LayerSlot;
  /** The holdout covering it, with its members (every experiment's it covers; null while counting). */
  holdout?: HoldoutRule & { members: number | null };
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

/** Assignments per bucket per UTC day (the day each entered its current bucket), as series. */
export interface DailyStatsView {
  experiment: string;
  numBuckets: number;
  /** Every day from the first assignment's to the last's, days without any included. */
  days: string[];
  /** Per bucket (index = bucket number), one count per day of `days`. */
  buckets: number[][];
  countedAt: string;
  recounting: boolean;
}

export function dailyStatsView(
  experiment: string,
  numBuckets: number,
  count: { daily: readonly DailyBucketCountRow[]; countedAt: Date },
  recounting: boolean,
): DailyStatsView {
  return {
    experiment,
    numBuckets,
    ...dailyBucketSeries(numBuckets, count.daily),
    countedAt: count.countedAt.toISOString(),
    recounting,
  };
}
