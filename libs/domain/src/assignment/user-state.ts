import type { BucketedReason } from '../decision/decide';
import type { Micros } from '../time/iso-time';

export interface EnrollmentRecord {
  /** Earliest time seen for this enrollment: its creation. */
  createdAt: Micros;
  /**
   * Time of the earliest event that reported it (later than `createdAt` when an event carries an
   * older creation date). Decisions before then do not know of it, as when applied in order.
   * Absent in states stored before it existed: taken as `createdAt`.
   */
  seenAt?: Micros;
  mode?: string;
  active?: boolean;
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
  reason: BucketedReason;
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
  reason: BucketedReason;
  version: number;
  firstDecidedAt: Micros;
  /** Time of the decision that set the current bucket. */
  lastDecidedAt: Micros;
  history: BucketChange[];
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
