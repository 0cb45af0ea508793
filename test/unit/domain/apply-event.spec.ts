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
    state.username = 'alice';
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
    state.username = 'alice';
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
