import type { Micros } from '../time/iso-time';

/**
 * What happened to an enrollment. Only "activated" (a tracking-log activation, an event-bus
 * creation) can trigger a decision; the others still count for the enrollment's creation time.
 */
export type EnrollmentAction = 'activated' | 'deactivated' | 'mode_changed' | 'changed';

interface EventCommon {
  time: Micros;
  /** A usable username: never empty or "anonymous". */
  username?: string;
  site?: string;
  isStaff?: boolean;
  /** Staff viewing the course as a specific learner: decide, never track. */
  masquerading?: boolean;
}

export interface EnrollmentEvent extends EventCommon {
  kind: 'enrollment';
  userId: number;
  courseId: string;
  action: EnrollmentAction;
  /** The enrollment's own creation time, when the event carries it (event bus). */
  createdAt?: Micros;
  mode?: string;
  isActive?: boolean;
}

export interface PageViewEvent extends EventCommon {
  kind: 'page_view';
  /** Absent for anonymous visitors. */
  userId?: number;
  courseId?: string;
}

/** One normalised inbound event, whatever format it arrived in. */
export type LearnerEvent = EnrollmentEvent | PageViewEvent;

const UNUSABLE_USERNAMES = new Set(['', 'anonymous']);

/** Tracking logs write "" or "anonymous" where no learner is known. */
export function usableUsername(value: unknown): string | undefined {
  return typeof value === 'string' && !UNUSABLE_USERNAMES.has(value) ? value : undefined;
}
