import type { BucketedReason } from '../decision/decide';

/** Why an assignment is in its bucket; `holdout` records a learner's membership of a holdout. */
export type AssignmentReason = BucketedReason | 'holdout';
import type { Micros } from '../time/iso-time';

export interface EnrollmentRecord {
  /** Earliest creation time reported for this enrollment. */
  createdAt: Micros;
  /**
   * When each creation time was reported: the times of the reporting events rising and the
   * creation times falling (a report that lowers nothing is left out). A decision at `now` uses
   * what was reported before then, as when applied in order; event-bus enrollments may report a
   * creation well before their own time. Absent in states stored before it existed: taken as
   * reported at `createdAt`.
   */
  reports?: CreationReport[];
  mode?: string;
  active?: boolean;
}

export interface CreationReport {
  /** The reporting event's time. */
  at: Micros;
  createdAt: Micros;
}

/** The reports, with one for states stored before they were kept. */
export function creationReportsOf(enrollment: EnrollmentRecord): CreationReport[] {
  return enrollment.reports ?? [{ at: enrollment.createdAt, createdAt: enrollment.createdAt }];
}

/**
 * The enrollment's creation time as known strictly before `now`, or with `ownReport` as the
 * triggering event reports it: undefined when nothing had reported it by then.
 */
export function createdAsOf(
  enrollment: EnrollmentRecord,
  now: Micros,
  ownReport?: Micros,
): Micros | undefined {
  let known = ownReport;
  for (const { at, createdAt } of creationReportsOf(enrollment))
    if (at < now && (known === undefined || createdAt < known)) known = createdAt;
  return known;
}

/** Adds a report, keeping only those that lower the creation time known from their time on. */
export function withCreationReport(
  reports: readonly CreationReport[],
  report: CreationReport,
): CreationReport[] {
  const kept: CreationReport[] = [];
  for (const next of [...reports, report].sort((a, b) => a.at - b.at || a.createdAt - b.createdAt))
    if (kept.length === 0 || next.createdAt < kept[kept.length - 1]!.createdAt) kept.push(next);
  return kept;
}

/** Where an input event came from: a topic partition (or a file) and its offset there. */
export interface SourcePosition {
  source: string;
  offset: number;
}

/** One move of an assignment into a bucket, with what its analytics message reports. */
export interface BucketChange {
  /** 0 for the first bucket, +1 per change: part of the message id, so a flip back is a new message. */
  version: number;
  bucket: number;
  reason: AssignmentReason;
  /** The experiment's bucket version that decided it, from 1 on (absent: edx-platform's hash). */
  bucketVersion?: number;
  /** The triggering event's time. */
  at: Micros;
  site: string | null;
  isStaff: boolean;
  /** The event that made this change, so that its redelivery recognises it. */
  position?: SourcePosition;
}

/** One learner's bucket in one experiment (and course, for course-scoped experiments). */
export interface AssignmentRecord {
  experiment: string;
  courseId: string | null;
  userId: number;
  username: string;
  bucket: number;
  reason: AssignmentReason;
  version: number;
  firstDecidedAt: Micros;
  /** Time of the decision that set the current bucket. */
  lastDecidedAt: Micros;
  history: BucketChange[];
  /** The layer the experiment was in when it assigned the learner: it holds them there. */
  layer?: string;
}

/** Everything decisions about one learner depend on; the unit a worker loads and saves. */
export interface UserState {
  userId: number;
  username?: string;
  /** Time of the event the username came from: the latest one wins, whatever the arrival order. */
  usernameAt?: Micros;
  /**
   * Time of the earliest event that carried a usable username. A decision at an earlier time is
   * made without one, as it was when that event came first: what later events taught is not
   * used for earlier ones, so that replaying history already applied changes nothing.
   */
  usernameSince?: Micros;
  enrollments: Map<string, EnrollmentRecord>;
  assignments: Map<string, AssignmentRecord>;
  /**
   * Per source, the offset of the last event of this learner applied to this state. Events up to
   * it are redeliveries: saved with the state they changed, so both are stored or neither is.
   * Events that changed nothing need not be saved: applied again, they change nothing again.
   */
  positions: Record<string, number>;
}

export function emptyUserState(userId: number): UserState {
  return { userId, enrollments: new Map(), assignments: new Map(), positions: {} };
}

export function assignmentKey(experiment: string, courseId: string | null): string {
  return courseId === null ? experiment : `${experiment}\u0000${courseId}`;
}
