import { bucketVersionAt } from '../bucketing/bucket-version';
import { decide, type Decision } from '../decision/decide';
import { decisionCourseOf, namespacedName, type Experiment } from '../experiment/experiment';
import type { EnrollmentEvent, LearnerEvent } from '../events/learner-event';
import type { LearnerAttributes } from '../learners/learner-attributes';
import type { Micros } from '../time/iso-time';
import { decisionInputOf, type DecisionContext } from './decision-input';
import {
  assignmentKey,
  creationReportsOf,
  withCreationReport,
  type AssignmentRecord,
  type BucketChange,
  type SourcePosition,
  type UserState,
} from './user-state';

/** A decision that created an assignment or moved it to another bucket: it must be published. */
export interface AssignmentChange {
  assignment: AssignmentRecord;
  change: BucketChange;
  /** The change was already stored by an earlier delivery of this event: publish it again, store nothing. */
  redelivered: boolean;
}

export interface EventOutcome {
  decisions: { experiment: Experiment; courseId: string | null; decision: Decision }[];
  changes: AssignmentChange[];
}

/** Which experiments this event asks a decision of, and for which course (null: none). */
function triggered(
  event: LearnerEvent,
  experiments: readonly Experiment[],
): { experiment: Experiment; courseId: string | null }[] {
  const trigger =
    event.kind === 'page_view'
      ? 'page_view'
      : event.action === 'activated'
        ? 'enrollment'
        : undefined;
  if (!trigger) return [];
  const courseId = event.courseId ?? null;
  const result: { experiment: Experiment; courseId: string | null }[] = [];
  for (const experiment of experiments) {
    if (!experiment.triggers.includes(trigger)) continue;
    const decidedFor = decisionCourseOf(experiment, courseId);
    if (decidedFor !== undefined) result.push({ experiment, courseId: decidedFor });
  }
  return result;
}

/** The creation time an enrollment event reports: its own `creation_date`, else its time. */
const reportedCreation = (event: EnrollmentEvent): Micros =>
  Math.min(event.time, event.createdAt ?? event.time);

/** Remembers what this event tells about the learner: their username, their enrollment's creation. */
function absorb(state: UserState, event: LearnerEvent): void {
  if (event.username !== undefined) {
    if (event.time >= (state.usernameAt ?? -Infinity)) {
      state.username = event.username;
      state.usernameAt = event.time;
    }
    if (event.time < (state.usernameSince ?? Infinity)) state.usernameSince = event.time;
  }
  if (event.kind !== 'enrollment') return;
  const known = state.enrollments.get(event.courseId);
  const reports = withCreationReport(known ? creationReportsOf(known) : [], {
    at: event.time,
    createdAt: reportedCreation(event),
  });
  state.enrollments.set(event.courseId, {
    // The last report lowers the creation time the most: the earliest one reported.
    createdAt: reports[reports.length - 1]!.createdAt,
    reports,
    mode: event.mode ?? known?.mode,
    active:
      event.isActive ??
      (event.action === 'activated'
        ? true
        : event.action === 'deactivated'
          ? false
          : known?.active),
  });
}

/** The changes an earlier delivery of the event at this position made, in experiment order. */
function changesMadeAt(
  state: UserState,
  position: SourcePosition,
  experiments: readonly Experiment[],
): AssignmentChange[] {
  const order = new Map(
    experiments.map((experiment, index) => [namespacedName(experiment), index]),
  );
  // A holdout's membership was recorded when the first experiment it covers held the learner out.
  experiments.forEach((experiment, index) => {
    const holdout = experiment.holdout?.name;
    if (holdout !== undefined && !order.has(holdout)) order.set(holdout, index);
  });
  const rank = (assignment: AssignmentRecord) => order.get(assignment.experiment) ?? order.size;
  return [...state.assignments.values()]
    .sort((a, b) => rank(a) - rank(b))
    .flatMap((assignment) =>
      assignment.history
        .filter(
          ({ position: made }) =>
            made?.source === position.source && made.offset === position.offset,
        )
        .map((change) => ({ assignment, change, redelivered: true })),
    );
}

/**
 * Records, once, that the learner is in a holdout: an assignment of the holdout's name with no
 * course, whose message tells the warehouse who was held out (and when first).
 */
function recordHoldout(
  state: UserState,
  holdout: string,
  username: string,
  position: SourcePosition | undefined,
  /** What the triggering event reports. */
  seen: { time: Micros; site: string | null; isStaff: boolean },
): AssignmentChange | undefined {
  const key = assignmentKey(holdout, null);
  if (state.assignments.has(key)) return undefined;
  const change: BucketChange = {
    version: 0,
    bucket: 0,
    reason: 'holdout',
    at: seen.time,
    site: seen.site,
    isStaff: seen.isStaff,
    position,
  };
  const assignment: AssignmentRecord = {
    experiment: holdout,
    courseId: null,
    userId: state.userId,
    username,
    bucket: 0,
    reason: 'holdout',
    version: 0,
    firstDecidedAt: seen.time,
    lastDecidedAt: seen.time,
    history: [change],
  };
  state.assignments.set(key, assignment);
  return { assignment, change, redelivered: false };
}

/**
 * Applies one event of this learner, in order: updates what is known about them, decides every
 * experiment the event triggers, and records bucketed decisions in the learner's assignments.
 * A not-bucketed decision leaves an existing assignment alone; a masquerading staff member's
 * decisions are made but never recorded.
 *
 * With a source position, an event the stored state already reflects (a redelivery after a crash
 * between the store write and the Kafka commit) is neither absorbed nor decided again: the state
 * may already know later events (a username, an enrollment) that it must not see. The changes it
 * made are returned again, marked redelivered, so that their messages are re-sent.
 */
export function applyEvent(
  state: UserState,
  event: LearnerEvent,
  experiments: readonly Experiment[],
  position?: SourcePosition,
  /** What the LMS export says of this learner, when attributes are loaded. */
  attributes?: LearnerAttributes,
): EventOutcome {
  if (position && (state.positions[position.source] ?? -1) >= position.offset)
    return { decisions: [], changes: changesMadeAt(state, position, experiments) };
  absorb(state, event);
  if (position) state.positions[position.source] = position.offset;
  const outcome: EventOutcome = { decisions: [], changes: [] };
  // What the event itself says, the same for every experiment it triggers.
  // The event's own word on staff first (native events carry it), else the LMS export's.
  const isStaff = event.isStaff ?? (attributes?.isStaff || undefined);
  const context: DecisionContext = {
    courseId: null,
    now: event.time,
    isStaff,
    isSuperuser: attributes?.isSuperuser || undefined,
    username: event.username,
    ownEnrollment:
      event.kind === 'enrollment'
        ? { courseId: event.courseId, createdAt: reportedCreation(event) }
        : undefined,
  };
  for (const { experiment, courseId } of triggered(event, experiments)) {
    const key = assignmentKey(namespacedName(experiment), courseId);
    const current = state.assignments.get(key);
    context.courseId = courseId;
    const input = decisionInputOf(state, context);
    const decision = decide(experiment, input);
    outcome.decisions.push({ experiment, courseId, decision });
    const username = input.username;
    if (event.masquerading === true || username === undefined) continue;
    if (!decision.bucketed) {
      if (decision.reason === 'holdout' && experiment.holdout) {
        const membership = recordHoldout(state, experiment.holdout.name, username, position, {
          time: event.time,
          site: event.site ?? null,
          isStaff: isStaff ?? false,
        });
        if (membership) outcome.changes.push(membership);
      }
      continue;
    }
    if (current?.bucket === decision.bucket) continue;
    // The latest decision sets the bucket: an event older than the one that set it (history
    // replayed after later events) does not undo it.
    if (current && event.time <= current.lastDecidedAt) continue;

    const bucketVersion = bucketVersionAt(experiment, event.time);
    const change: BucketChange = {
      version: current ? current.version + 1 : 0,
      bucket: decision.bucket,
      reason: decision.reason,
      ...(bucketVersion > 0 ? { bucketVersion } : {}),
      at: event.time,
      site: event.site ?? null,
      isStaff: isStaff ?? false,
      position,
    };
    const assignment: AssignmentRecord = {
      experiment: namespacedName(experiment),
      courseId,
      userId: state.userId,
      username,
      bucket: change.bucket,
      reason: change.reason,
      version: change.version,
      firstDecidedAt: current?.firstDecidedAt ?? event.time,
      lastDecidedAt: event.time,
      history: [...(current?.history ?? []), change],
      ...(experiment.layer ? { layer: experiment.layer.name } : {}),
    };
    state.assignments.set(key, assignment);
    outcome.changes.push({ assignment, change, redelivered: false });
  }
  return outcome;
}
