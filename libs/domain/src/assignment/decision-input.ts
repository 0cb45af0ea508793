import type { DecisionInput } from '../decision/decide';
import type { Micros } from '../time/iso-time';
import type { UserState } from './user-state';

/** The moment and course a decision is made for, beyond what is stored about the learner. */
export interface DecisionContext {
  courseId: string | null;
  now: Micros;
  isStaff?: boolean;
}

/**
 * What a decision about a learner sees: the username remembered from their latest event and,
 * for a course decision, when they enrolled in that course. The worker and explanations both
 * build their inputs here, so that an explanation sees what the worker saw.
 */
export function decisionInputOf(state: UserState, context: DecisionContext): DecisionInput {
  return {
    userId: state.userId,
    username: state.username,
    isStaff: context.isStaff,
    courseId: context.courseId ?? undefined,
    now: context.now,
    enrolledAt:
      context.courseId === null ? undefined : state.enrollments.get(context.courseId)?.createdAt,
  };
}
