import { decide, type Decision } from '../decision/decide';
import { namespacedName, type Experiment } from '../experiment/experiment';
import type { LearnerEvent } from '../events/learner-event';
import {
  assignmentKey,
  type AssignmentRecord,
  type BucketChange,
  type SourcePosition,
  type UserState,
} from './user-state';

/** A decision that created an assignment or moved it to another bucket: it must be published. */
export interface AssignmentChange {
  assignment: AssignmentRecord;
  change: BucketChange;
  previousBucket?: number;
  event: LearnerEvent;
  experiment: Experiment;
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
    if (experiment.scope === 'global') result.push({ experiment, courseId: null });
    else if (courseId !== null) result.push({ experiment, courseId });
  }
  return result;
}

/** Remembers what this event tells about the learner: their username, their enrollment's creation. */
function absorb(state: UserState, event: LearnerEvent): void {
  if (event.username !== undefined && event.time >= (state.usernameAt ?? -Infinity)) {
    state.username = event.username;
    state.usernameAt = event.time;
  }
  if (event.kind !== 'enrollment') return;
  const seenAt = Math.min(event.time, event.createdAt ?? event.time);
  const known = state.enrollments.get(event.courseId);
  state.enrollments.set(event.courseId, {
    createdAt: known ? Math.min(known.createdAt, seenAt) : seenAt,
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

/**
 * Applies one event of this learner, in order: updates what is known about them, decides every
 * experiment the event triggers, and records bucketed decisions in the learner's assignments.
 * A not-bucketed decision leaves an existing assignment alone; a masquerading staff member's
 * decisions are made but never recorded.
 *
 * With a source position, an event that the stored assignment already reflects (a redelivery
 * after a crash between the store write and the Kafka commit) is not decided again: if it made a
 * change, that change is returned again, marked redelivered, so that its message is re-sent.
 */
export function applyEvent(
  state: UserState,
  event: LearnerEvent,
  experiments: readonly Experiment[],
  position?: SourcePosition,
): EventOutcome {
  absorb(state, event);
  const outcome: EventOutcome = { decisions: [], changes: [] };
  for (const { experiment, courseId } of triggered(event, experiments)) {
    const key = assignmentKey(namespacedName(experiment), courseId);
    const current = state.assignments.get(key);
    if (position && current && (current.positions[position.source] ?? -1) >= position.offset) {
      const own = current.history.find(
        (change) =>
          change.position?.source === position.source && change.position.offset === position.offset,
      );
      if (own)
        outcome.changes.push({
          assignment: current,
          change: own,
          event,
          experiment,
          redelivered: true,
        });
      continue;
    }

    const decision = decide(experiment, {
      userId: state.userId,
      username: state.username,
      isStaff: event.isStaff,
      courseId: courseId ?? undefined,
      now: event.time,
      enrolledAt: courseId === null ? undefined : state.enrollments.get(courseId)?.createdAt,
    });
    outcome.decisions.push({ experiment, courseId, decision });
    const username = state.username;
    if (!decision.bucketed || event.masquerading === true || username === undefined) continue;
    if (current?.bucket === decision.bucket) continue;

    const change: BucketChange = {
      version: current ? current.version + 1 : 0,
      bucket: decision.bucket,
      reason: decision.reason,
      at: event.time,
      site: event.site ?? null,
      isStaff: event.isStaff ?? false,
      position,
    };
    const positions = position
      ? { ...current?.positions, [position.source]: position.offset }
      : { ...current?.positions };
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
      positions,
    };
    state.assignments.set(key, assignment);
    outcome.changes.push({
      assignment,
      change,
      previousBucket: current?.bucket,
      event,
      experiment,
      redelivered: false,
    });
  }
  return outcome;
}
