import {
  applyEvent,
  emptyUserState,
  parseIsoMicros,
  type LearnerEvent,
  type UserState,
} from '@assigner/domain';
import fc from 'fast-check';
import { experiment, flag } from '../../support/experiments';

const at = (text: string) => parseIsoMicros(text)!;
const START = at('2026-03-01T00:00:00Z');
const COURSES = ['course-v1:edX+A+1', 'course-v1:edX+B+1'];

/** Experiments whose decisions depend on everything an event or the state can carry. */
const EXPERIMENTS = [
  experiment({
    name: 'windowed',
    experimentId: 1,
    triggers: ['page_view', 'enrollment'],
    keyValues: { enrollment_start: '2026-03-01T00:10:00Z', enrollment_end: '2026-03-01T01:00:00Z' },
  }),
  experiment({
    name: 'windowed_views',
    experimentId: 2,
    triggers: ['page_view'],
    keyValues: { enrollment_start: '2026-03-01T00:10:00Z', enrollment_end: '2026-03-01T01:00:00Z' },
  }),
  experiment({ name: 'staff_forced', bucketFlags: { 1: flag({ staff: true }) } }),
  experiment({ name: 'on_enrollment', triggers: ['enrollment'], numBuckets: 3 }),
  experiment({ name: 'site_wide', scope: 'global', numBuckets: 4 }),
];

const content = (state: UserState) =>
  JSON.stringify({
    username: state.username,
    enrollments: [...state.enrollments],
    assignments: [...state.assignments],
  });

/**
 * One learner's events, in time order: page views and enrollments (some with an earlier creation
 * time), with or without a username.
 */
const history = fc
  .array(
    fc.record({
      gapSeconds: fc.integer({ min: 0, max: 900 }),
      kind: fc.constantFrom('page_view', 'enrollment'),
      course: fc.constantFrom(...COURSES),
      withUsername: fc.boolean(),
      isStaff: fc.boolean(),
      // Event-bus enrollments carry their creation time, which may be well before the event.
      createdSecondsBefore: fc.option(fc.integer({ min: 0, max: 1800 })),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((steps) => {
    let time = START;
    return steps.map((step): LearnerEvent => {
      time += step.gapSeconds * 1_000_000;
      const common = {
        userId: 7,
        courseId: step.course,
        time,
        username: step.withUsername ? 'alice' : undefined,
        isStaff: step.isStaff,
      };
      return step.kind === 'page_view'
        ? { kind: 'page_view', ...common }
        : {
            kind: 'enrollment',
            action: 'activated',
            ...common,
            createdAt:
              step.createdSecondsBefore === null
                ? undefined
                : time - step.createdSecondsBefore * 1_000_000,
          };
    });
  });

describe('applying events again over a state that already reflects them (replays)', () => {
  it('changes nothing and publishes nothing, in any order, from any source', () => {
    fc.assert(
      fc.property(history, fc.integer(), (events, seed) => {
        const state = emptyUserState(7);
        events.forEach((event, offset) =>
          applyEvent(state, event, EXPERIMENTS, { source: 'topic/0', offset }),
        );
        const before = content(state);
        const replayed = [...events].sort(() => ((seed = (seed * 1103515245 + 12345) | 0) % 3) - 1);
        for (const [offset, event] of replayed.entries()) {
          const outcome = applyEvent(state, event, EXPERIMENTS, { source: 'replay', offset });
          expect(outcome.changes).toEqual([]);
        }
        expect(content(state)).toBe(before);
      }),
      { numRuns: 3000 },
    );
  });

  it('lends no username between events of the same instant, whatever order they come in', () => {
    // Found by the property above: the first view has no username, the second (same microsecond,
    // another course) brings one. Applied again, the first must still decide without it.
    const views: LearnerEvent[] = [
      { kind: 'page_view', userId: 7, courseId: COURSES[0], time: START },
      { kind: 'page_view', userId: 7, courseId: COURSES[1], time: START, username: 'alice' },
    ];
    const state = emptyUserState(7);
    for (const view of views) applyEvent(state, view, EXPERIMENTS);
    expect([...state.assignments.values()].map((a) => a.courseId)).not.toContain(COURSES[0]);
    expect(applyEvent(state, views[0]!, EXPERIMENTS).changes).toEqual([]);
  });

  it('uses an enrollment only from the event that reported it on, however early it was created', () => {
    // Found by the property above, with an event-bus enrollment at the window's end created a
    // second before it: applied first, the view at that instant was after the window.
    const views = [EXPERIMENTS[1]!];
    const state = emptyUserState(7);
    const view: LearnerEvent = {
      kind: 'page_view',
      userId: 7,
      courseId: COURSES[0],
      time: at('2026-03-01T01:10:00Z'),
      username: 'alice',
    };
    expect(applyEvent(state, view, views).decisions[0]?.decision).toEqual({
      bucketed: false,
      reason: 'after_window',
    });
    applyEvent(
      state,
      {
        kind: 'enrollment',
        action: 'activated',
        userId: 7,
        courseId: COURSES[0]!,
        time: at('2026-03-01T01:20:00Z'),
        createdAt: at('2026-03-01T00:30:00Z'),
      },
      views,
    );
    // Applied again, the view still does not know of the enrollment reported after it.
    const again = applyEvent(state, view, views);
    expect(again.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'after_window' });
    expect(again.changes).toEqual([]);
    // A view after the report decides on the enrollment's creation time: inside the window.
    const later = applyEvent(state, { ...view, time: at('2026-03-01T01:30:00Z') }, views);
    expect(later.decisions[0]?.decision).toMatchObject({ bucketed: true });
  });

  it('uses the creation time reported before then, even when a later report lowers it', () => {
    // Found by the property above in CI: a second report of the same enrollment, a second after
    // the first, carries a creation time inside the window that the first did not.
    const windowed = [EXPERIMENTS[0]!];
    const enrollment = (time: string, createdAt?: string): LearnerEvent => ({
      kind: 'enrollment',
      action: 'activated',
      userId: 7,
      courseId: COURSES[0]!,
      time: at(time),
      createdAt: createdAt === undefined ? undefined : at(createdAt),
    });
    const view: LearnerEvent = {
      kind: 'page_view',
      userId: 7,
      courseId: COURSES[0],
      time: at('2026-03-01T01:00:01Z'),
      username: 'alice',
    };
    const state = emptyUserState(7);
    applyEvent(state, enrollment('2026-03-01T01:00:00Z'), windowed);
    const first = applyEvent(state, view, windowed);
    applyEvent(state, enrollment('2026-03-01T01:00:01Z', '2026-03-01T00:59:59Z'), windowed);
    const again = applyEvent(state, view, windowed);
    expect(again.decisions).toEqual(first.decisions);
    expect(again.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'after_window' });
    expect(again.changes).toEqual([]);
    expect(state.enrollments.get(COURSES[0]!)?.createdAt).toBe(at('2026-03-01T00:59:59Z'));
  });

  it('decides a late event as of its own time, with what was known then', () => {
    const onEnrollment = [experiment({ triggers: ['enrollment'] })];
    const state = emptyUserState(7);
    // The username arrives at 00:05; an enrollment from 00:01 delivered late has no username then.
    applyEvent(
      state,
      { kind: 'page_view', userId: 7, time: at('2026-03-01T00:05:00Z'), username: 'alice' },
      onEnrollment,
    );
    const late = applyEvent(
      state,
      {
        kind: 'enrollment',
        action: 'activated',
        userId: 7,
        courseId: COURSES[0]!,
        time: at('2026-03-01T00:01:00Z'),
      },
      onEnrollment,
    );
    expect(late.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'no_username' });
    expect(state.usernameSince).toBe(at('2026-03-01T00:05:00Z'));
  });

  it('lets an older decision create a missing assignment but never undo a newer bucket', () => {
    const staffForced = [
      experiment({ name: 'staff_forced', bucketFlags: { 1: flag({ staff: true }) } }),
    ];
    const state = emptyUserState(7);
    const view = (time: string, isStaff: boolean): LearnerEvent => ({
      kind: 'page_view',
      userId: 7,
      courseId: COURSES[0],
      time: at(time),
      username: 'alice',
      isStaff,
    });
    expect(applyEvent(state, view('2026-03-01T00:10:00Z', true), staffForced).changes).toHaveLength(
      1,
    );
    // An earlier event, not staff, would hash elsewhere; it is older than the forced decision.
    expect(applyEvent(state, view('2026-03-01T00:05:00Z', false), staffForced).changes).toEqual([]);
    expect([...state.assignments.values()][0]).toMatchObject({ bucket: 1, reason: 'forced' });
  });
});
