import { analyticsMessageOf } from '@assigner/contracts';
import {
  applyEvent,
  emptyUserState,
  parseIsoMicros,
  stableBucketReference,
  type EnrollmentEvent,
  type PageViewEvent,
} from '@assigner/domain';
import { experiment, flag, ON } from '../../support/experiments';

const at = (text: string) => parseIsoMicros(text)!;
const COURSE = 'course-v1:edX+DemoX+2026';
const view = (time: string, extra: Partial<PageViewEvent> = {}): PageViewEvent => ({
  kind: 'page_view',
  userId: 7,
  courseId: COURSE,
  time: at(time),
  ...extra,
});
const enrollment = (time: string, extra: Partial<EnrollmentEvent> = {}): EnrollmentEvent => ({
  kind: 'enrollment',
  action: 'activated',
  userId: 7,
  courseId: COURSE,
  time: at(time),
  ...extra,
});

describe('applying a learner’s events in order', () => {
  const windowed = experiment({ experimentId: 1, keyValues: { enrollment_start: '2026-02-01' } });

  it('uses the earliest enrollment event as the enrollment’s creation time', () => {
    const state = emptyUserState(7);
    applyEvent(state, enrollment('2026-03-01T00:00:00Z', { action: 'mode_changed' }), [windowed]);
    applyEvent(state, enrollment('2026-01-15T00:00:00Z', { action: 'deactivated' }), [windowed]);
    expect(state.enrollments.get(COURSE)).toMatchObject({
      createdAt: at('2026-01-15T00:00:00Z'),
      active: false,
    });
    const outcome = applyEvent(state, view('2026-04-01T00:00:00Z', { username: 'alice' }), [
      windowed,
    ]);
    expect(outcome.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'before_window' });
    expect(state.assignments.size).toBe(0);
  });

  it('remembers a username from a page view for later events that carry none', () => {
    const state = emptyUserState(7);
    const early = applyEvent(state, enrollment('2026-03-01T00:00:00Z'), [
      experiment({ triggers: ['enrollment'] }),
    ]);
    expect(early.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'no_username' });
    applyEvent(state, view('2026-03-02T00:00:00Z', { courseId: undefined, username: 'alice' }), []);
    const later = applyEvent(state, enrollment('2026-03-03T00:00:00Z', { courseId: 'a/b/c' }), [
      experiment({ triggers: ['enrollment'] }),
    ]);
    expect(later.changes[0]?.assignment).toMatchObject({
      username: 'alice',
      courseId: 'a/b/c',
      bucket: stableBucketReference('experiments.test.a/b/c', 2, 'alice'),
    });
  });

  it('fires enrollment triggers on activation only, and page-view triggers on page views only', () => {
    const onEnrollment = experiment({ triggers: ['enrollment'] });
    const state = emptyUserState(7);
    Object.assign(state, { username: 'alice', usernameSince: 0 });
    expect(
      applyEvent(state, enrollment('2026-03-01T00:00:00Z', { action: 'mode_changed' }), [
        onEnrollment,
      ]).decisions,
    ).toEqual([]);
    expect(applyEvent(state, view('2026-03-01T00:00:00Z'), [onEnrollment]).decisions).toEqual([]);
    expect(
      applyEvent(state, enrollment('2026-03-01T00:00:00Z'), [onEnrollment]).decisions,
    ).toHaveLength(1);
  });

  it('decides course experiments only with a course, and global ones once per user without course', () => {
    const state = emptyUserState(7);
    Object.assign(state, { username: 'alice', usernameSince: 0 });
    const global = experiment({ name: 'global', scope: 'global' });
    const courseScoped = experiment({ name: 'scoped' });
    expect(
      applyEvent(state, view('2026-03-01T00:00:00Z', { courseId: undefined }), [courseScoped])
        .decisions,
    ).toEqual([]);
    applyEvent(state, view('2026-03-01T00:00:00Z'), [global]);
    applyEvent(state, view('2026-03-01T00:00:01Z', { courseId: 'a/b/c' }), [global]);
    expect([...state.assignments.values()]).toEqual([
      expect.objectContaining({
        experiment: 'experiments.global',
        courseId: null,
        bucket: stableBucketReference('experiments.global', 2, 'alice'),
      }),
    ]);
  });

  it('publishes once per new assignment or changed bucket, and a flip back gets a new message id', () => {
    const state = emptyUserState(7);
    const forced = (bucket: number) => experiment({ bucketFlags: { [bucket]: ON } });
    const ids: string[] = [];
    const step = (time: string, exp: ReturnType<typeof experiment>) => {
      const { changes } = applyEvent(
        state,
        view(time, { username: 'alice', site: 'lms.example.com' }),
        [exp],
      );
      ids.push(...changes.map((change) => analyticsMessageOf(change.assignment).messageId));
      return changes;
    };
    expect(step('2026-03-01T00:00:00Z', forced(1))).toHaveLength(1);
    expect(step('2026-03-02T00:00:00Z', forced(1))).toHaveLength(0);
    expect(step('2026-03-03T00:00:00Z', forced(0))).toHaveLength(1);
    expect(step('2026-03-04T00:00:00Z', forced(1))).toHaveLength(1);
    // Switched off: not bucketed, the assignment stays as it was.
    expect(
      step('2026-03-05T00:00:00Z', experiment({ flag: flag({ everyone: false }) })),
    ).toHaveLength(0);

    const assignment = [...state.assignments.values()][0]!;
    expect(assignment).toMatchObject({
      bucket: 1,
      version: 2,
      reason: 'forced',
      lastDecidedAt: at('2026-03-04T00:00:00Z'),
    });
    expect(assignment.history.map((change) => change.bucket)).toEqual([1, 0, 1]);
    expect(new Set(ids).size).toBe(3);
    expect(analyticsMessageOf(assignment)).toEqual({
      type: 'track',
      event: 'edx.bi.experiment.user.bucketed',
      messageId: ids[2],
      userId: 7,
      timestamp: '2026-03-04T00:00:00.000Z',
      properties: {
        site: 'lms.example.com',
        app_label: 'experiments',
        experiment: 'test',
        course_id: COURSE,
        bucket: 1,
        is_staff: false,
        nonInteraction: 1,
      },
    });
  });

  it('decides for a masquerading staff member but records and publishes nothing', () => {
    const state = emptyUserState(7);
    const outcome = applyEvent(
      state,
      view('2026-03-01T00:00:00Z', { username: 'alice', masquerading: true, isStaff: true }),
      [experiment()],
    );
    expect(outcome.decisions[0]?.decision).toMatchObject({ bucketed: true });
    expect(outcome.changes).toEqual([]);
    expect(state.assignments.size).toBe(0);
  });
});

describe('redelivered events (a crash between the store write and the Kafka commit)', () => {
  const source = 'tracking/3';
  const forced = (bucket: number) => experiment({ bucketFlags: { [bucket]: ON } });

  it('re-sends the change an event already stored, and decides nothing again for events already reflected', () => {
    const state = emptyUserState(7);
    const first = applyEvent(
      state,
      view('2026-03-01T00:00:00Z', { username: 'alice' }),
      [forced(1)],
      { source, offset: 10 },
    );
    applyEvent(state, view('2026-03-01T00:00:01Z'), [forced(1)], { source, offset: 11 });
    const moved = applyEvent(state, view('2026-03-01T00:00:02Z'), [forced(0)], {
      source,
      offset: 12,
    });
    expect(state.assignments.values().next().value).toMatchObject({ bucket: 0, version: 1 });
    expect(state.positions).toEqual({ [source]: 12 });

    // The same three events again, with the stored state as it is now: the two changes come back
    // as they were, with the same message ids; the event that changed nothing stays silent.
    const again10 = applyEvent(
      state,
      view('2026-03-01T00:00:00Z', { username: 'alice' }),
      [forced(1)],
      { source, offset: 10 },
    );
    const again11 = applyEvent(state, view('2026-03-01T00:00:01Z'), [forced(1)], {
      source,
      offset: 11,
    });
    const again12 = applyEvent(state, view('2026-03-01T00:00:02Z'), [forced(0)], {
      source,
      offset: 12,
    });
    const id = (changes: typeof first.changes) =>
      changes.map((c) => analyticsMessageOf(c.assignment, c.change).messageId);
    expect(id(again10.changes)).toEqual(id(first.changes));
    expect(again10.changes[0]?.redelivered).toBe(true);
    expect(again11.changes).toEqual([]);
    expect(id(again12.changes)).toEqual(id(moved.changes));
    expect(state.assignments.values().next().value).toMatchObject({ bucket: 0, version: 1 });

    // A new event from the same source is decided as usual.
    const next = applyEvent(state, view('2026-03-01T00:00:03Z'), [forced(1)], {
      source,
      offset: 13,
    });
    expect(next.changes[0]).toMatchObject({
      redelivered: false,
      change: { version: 2, bucket: 1 },
    });
  });

  it('does not decide a redelivered event with what later events taught the stored state', () => {
    // The enrollment at offset 20 had no username; the page view at 21 brought it. Redelivered
    // onto the stored state, which knows the username, the enrollment must not assign after all.
    const onEnrollment = [experiment({ triggers: ['enrollment'] })];
    const state = emptyUserState(7);
    const first = applyEvent(state, enrollment('2026-03-01T00:00:00Z'), onEnrollment, {
      source,
      offset: 20,
    });
    applyEvent(state, view('2026-03-01T00:05:00Z', { username: 'alice' }), onEnrollment, {
      source,
      offset: 21,
    });
    expect(first.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'no_username' });

    const again = applyEvent(state, enrollment('2026-03-01T00:00:00Z'), onEnrollment, {
      source,
      offset: 20,
    });
    expect(again).toEqual({ decisions: [], changes: [] });
    expect(state.assignments.size).toBe(0);
  });

  it('applies events from another source whatever offsets this one reached', () => {
    const state = emptyUserState(7);
    applyEvent(state, view('2026-03-01T00:00:00Z', { username: 'alice' }), [forced(1)], {
      source,
      offset: 50,
    });
    const other = applyEvent(state, view('2026-03-01T00:00:01Z'), [forced(0)], {
      source: 'tracking/4',
      offset: 3,
    });
    expect(other.changes[0]).toMatchObject({ redelivered: false, change: { bucket: 0 } });
    expect(state.positions).toEqual({ [source]: 50, 'tracking/4': 3 });
  });
});
