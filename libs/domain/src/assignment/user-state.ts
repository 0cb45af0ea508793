import type { BucketedReason } from '../decision/decide';
import type { Micros } from '../time/iso-time';

export interface EnrollmentRecord {
  /** Earliest time seen for this enrollment: its creation. */
  createdAt: Micros;
  mode?: string;
  active?: boolean;
}

/** One move of an assignment into a bucket, with what its analytics message reports. */
export interface BucketChange {
  bucket: number;
  reason: BucketedReason;
  /** The triggering event's time. */
  at: Micros;
  site: string | null;
  isStaff: boolean;
}

/** One learner's bucket in one experiment (and course, for course-scoped experiments). */
export interface AssignmentRecord {
  experiment: string;
  courseId: string | null;
  userId: number;
  username: string;
  bucket: number;
  reason: BucketedReason;
  /** 0 for the first bucket, +1 per change: part of the message id, so a flip back is a new message. */
  version: number;
  firstDecidedAt: Micros;
  lastDecidedAt: Micros;
  history: BucketChange[];
}

/** Everything decisions about one learner depend on; the unit a worker loads and saves. */
export interface UserState {
  userId: number;
  username?: string;
  enrollments: Map<string, EnrollmentRecord>;
  assignments: Map<string, AssignmentRecord>;
}

export function emptyUserState(userId: number): UserState {
  return { userId, enrollments: new Map(), assignments: new Map() };
}

export function assignmentKey(experiment: string, courseId: string | null): string {
  return courseId === null ? experiment : `${experiment}\u0000${courseId}`;
}
