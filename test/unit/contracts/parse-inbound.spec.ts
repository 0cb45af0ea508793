import { parseInbound } from '@assigner/contracts';
import { parseIsoMicros } from '@assigner/domain';
import fc from 'fast-check';

const line = (value: unknown) => JSON.stringify(value);
const at = (text: string) => parseIsoMicros(text)!;

// Shaped like the LMS's own tracking-log lines.
const managementEnrollment = {
  username: 'anonymous',
  host: '',
  event_source: 'server',
  event_type: 'edx.course.enrollment.activated',
  context: {
    course_id: 'edX/Open_DemoX/edx_demo_course',
    org_id: 'edX',
    command: './manage.py create_user',
  },
  time: '2014-07-30T17:09:59.941616+00:00',
  event: { course_id: 'edX/Open_DemoX/edx_demo_course', user_id: 5, mode: 'honor' },
};
const pageView = {
  username: 'honor',
  event_source: 'server',
  event_type: '/courses/course-v1:edX+DemoX+Demo_Course/courseware/',
  host: 'lms.example.com',
  time: '2016-04-01T10:00:00.000000+00:00',
  context: {
    user_id: 3,
    course_id: 'course-v1:edX+DemoX+Demo_Course',
    org_id: 'edX',
    path: '/courses/x',
  },
  event: '{"POST": {}, "GET": {}}',
};

describe('inbound tracking-log events', () => {
  it('reads an enrollment made by a management command: no username, user id from the event', () => {
    expect(parseInbound(line(managementEnrollment))).toEqual({
      kind: 'event',
      event: {
        kind: 'enrollment',
        action: 'activated',
        userId: 5,
        courseId: 'edX/Open_DemoX/edx_demo_course',
        time: at('2014-07-30T17:09:59.941616Z'),
        mode: 'honor',
        username: undefined,
        site: undefined,
      },
    });
  });

  it('reads the enrollment type from "name" and the user from the context when the event lacks it', () => {
    const deactivated = {
      ...managementEnrollment,
      event_type: 'something.else',
      name: 'edx.course.enrollment.deactivated',
      username: 'honor',
      context: { user_id: 1 },
      event: { course_id: 'a/b/c', mode: 'honor' },
    };
    expect(parseInbound(line(deactivated))).toMatchObject({
      kind: 'event',
      event: {
        kind: 'enrollment',
        action: 'deactivated',
        userId: 1,
        username: 'honor',
        courseId: 'a/b/c',
      },
    });
  });

  it('reads a course page view with its site, and an anonymous one', () => {
    expect(parseInbound(line(pageView))).toEqual({
      kind: 'event',
      event: {
        kind: 'page_view',
        userId: 3,
        username: 'honor',
        courseId: 'course-v1:edX+DemoX+Demo_Course',
        time: at('2016-04-01T10:00:00Z'),
        site: 'lms.example.com',
      },
    });
    const anonymous = { ...pageView, username: '', context: { user_id: '', course_id: '' } };
    expect(parseInbound(line(anonymous))).toMatchObject({
      kind: 'event',
      event: { kind: 'page_view', userId: undefined, courseId: undefined, username: undefined },
    });
    expect(parseInbound(line({ ...pageView, event_type: '/courses' }))).toMatchObject({
      kind: 'event',
    });
  });

  it('ignores other event types and browser events on course URLs', () => {
    expect(parseInbound(line({ ...pageView, event_type: 'problem_check' }))).toEqual({
      kind: 'ignored',
      reason: 'event type problem_check',
    });
    expect(parseInbound(line({ ...pageView, event_source: 'browser' }))).toMatchObject({
      kind: 'ignored',
    });
    expect(parseInbound(line({ ...pageView, event_type: '/coursesX' }))).toMatchObject({
      kind: 'ignored',
    });
    expect(parseInbound(line({ hello: 'world' }))).toEqual({
      kind: 'ignored',
      reason: 'unrecognised format',
    });
  });

  it.each([
    ['{"truncated": ', 'not JSON'],
    ['[1,2]', 'not a JSON object'],
    ['"text"', 'not a JSON object'],
    [
      line({ ...managementEnrollment, event: { course_id: 'a/b/c', user_id: 'abc' } }),
      'event.user_id must be a positive integer (got "abc")',
    ],
    [
      line({ ...managementEnrollment, event: { course_id: 'a/b/c', user_id: -4 } }),
      'event.user_id must be a positive integer (got -4)',
    ],
    [
      line({ ...managementEnrollment, event: { course_id: 'a/b/c' }, context: {} }),
      'enrollment without a user id',
    ],
    [
      line({ ...managementEnrollment, event: { user_id: 5 } }),
      'enrollment without event.course_id',
    ],
    [line({ ...managementEnrollment, time: undefined }), 'time is missing'],
    [line({ ...pageView, time: 'yesterday' }), 'time is not an ISO-8601 time'],
    [
      line({ ...pageView, context: { user_id: 2.5 } }),
      'context.user_id must be a positive integer (got 2.5)',
    ],
  ])('rejects %s: %s', (raw, reason) => {
    expect(parseInbound(raw)).toEqual({ kind: 'invalid', reason });
  });
});

describe('inbound native events', () => {
  it('reads page views with staff and masquerading flags, and enrollments', () => {
    const view = {
      type: 'experiment-assigner.page_view',
      user_id: 9,
      username: 'staffer',
      course_id: 'course-v1:A+B+C',
      time: '2026-01-01T00:00:00Z',
      site: 'lms.example.com',
      is_staff: true,
      masquerading: true,
    };
    expect(parseInbound(line(view))).toMatchObject({
      kind: 'event',
      event: {
        kind: 'page_view',
        userId: 9,
        isStaff: true,
        masquerading: true,
        site: 'lms.example.com',
      },
    });
    const enrollment = {
      type: 'experiment-assigner.enrollment',
      user_id: 9,
      course_id: 'course-v1:A+B+C',
      time: '2026-01-01T00:00:00Z',
    };
    expect(parseInbound(line(enrollment))).toMatchObject({
      event: { kind: 'enrollment', action: 'activated' },
    });
    expect(parseInbound(line({ ...enrollment, action: 'exploded' }))).toMatchObject({
      kind: 'invalid',
    });
  });
});

describe('the inbound parser under arbitrary input', () => {
  const anything = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc
      .record({
        event_type: fc.oneof(
          fc.constantFrom('edx.course.enrollment.activated', '/courses/x', '/courses'),
          fc.string(),
        ),
        event_source: fc.constantFrom('server', 'browser', undefined),
        username: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
        time: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.integer(),
        ),
        context: fc.oneof(
          fc.jsonValue(),
          fc.record({ user_id: fc.jsonValue(), course_id: fc.jsonValue() }),
        ),
        event: fc.oneof(
          fc.jsonValue(),
          fc.record({ user_id: fc.jsonValue(), course_id: fc.jsonValue() }),
        ),
      })
      .map((record) => JSON.stringify(record)),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  );

  it('never throws, and always answers event, ignored or invalid', () => {
    fc.assert(
      fc.property(anything, (raw) => {
        expect(['event', 'ignored', 'invalid']).toContain(parseInbound(raw).kind);
      }),
      { numRuns: 5000 },
    );
  });

  it('handles a huge line', () => {
    const huge = line({ ...pageView, padding: 'x'.repeat(5_000_000) });
    expect(parseInbound(huge)).toMatchObject({ kind: 'event' });
  });
});
