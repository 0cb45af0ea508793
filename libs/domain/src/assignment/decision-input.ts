import type { DecisionInput } from '../decision/decide';
import type { Micros } from '../time/iso-time';
import { createdAsOf, type UserState } from './user-state';

/** The moment and course a decision is made for, beyond what is stored about the learner. */
export interface DecisionContext {
  courseId: string | null;
  now: Micros;
  isStaff?: boolean;
  isSuperuser?: boolean;
  /** The username the triggering event itself carries, if any. */
  username?: string;
  /** The enrollment the triggering event itself reports, if any, with the creation it reports. */
  ownEnrollment?: { courseId: string; createdAt: Micros };
}

/**
 * What a decision about a learner at `now` sees: the event's own username, else the one
 * remembered from their latest event if one was known before then and, for a course decision,
 * when they enrolled in that course as reported by then (see `createdAsOf`). Known "by then" is
 * what makes a decision the same whether its event is applied in order or again later over a
 * state that knows more (a replay). The worker and explanations both build their inputs here, so
 * that an explanation sees what the worker saw.
 */
export function decisionInputOf(state: UserState, context: DecisionContext): DecisionInput {
  const enrollment =
    context.courseId === null ? undefined : state.enrollments.get(context.courseId);
  // Strictly before: of events at the same instant, none may lend its username or enrollment to
  // another, whichever order they are applied in.
  const usernameKnown = state.usernameSince !== undefined && state.usernameSince < context.now;
  // Built field by field, not spread: it is made for every decision of every event.
  const input: DecisionInput = {
    userId: state.userId,
    username: context.username ?? (usernameKnown ? state.username : undefined),
    isStaff: context.isStaff,
    courseId: context.courseId ?? undefined,
    now: context.now,
    enrolledAt:
      enrollment &&
      createdAsOf(
        enrollment,
        context.now,
        context.ownEnrollment?.courseId === context.courseId
          ? context.ownEnrollment.createdAt
          : undefined,
      ),
  };
  if (context.isSuperuser) input.isSuperuser = true;
  const heldLayers = heldLayersOf(state);
  if (heldLayers) input.heldLayers = heldLayers;
  return input;
}

/** Per layer, the experiment the learner holds assignments in; none when no layer is used. */
function heldLayersOf(state: UserState): Map<string, string> | undefined {
  let held: Map<string, string> | undefined;
  for (const { layer, experiment } of state.assignments.values())
    if (layer !== undefined) (held ??= new Map()).set(layer, experiment);
  return held;
}
