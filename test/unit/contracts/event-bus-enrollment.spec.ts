import {
  parseInboundMessage,
  readConfluentFrame,
  type DecodedValue,
  type InboundMessage,
} from '@assigner/contracts';
import { parseIsoMicros } from '@assigner/domain';

const at = (text: string) => parseIsoMicros(text)!;
const CREATED = 'org.openedx.learning.course.enrollment.created.v1';

// What avsc decodes from an openedx-events CloudEvent value (unions unwrapped).
const enrollment = {
  user: {
    id: 42,
    is_active: true,
    pii: { username: 'alice', email: 'a@example.com', name: 'Alice' },
  },
  course: { course_key: 'course-v1:edX+DemoX+2026', display_name: 'Demo', start: null, end: null },
  mode: 'audit',
  is_active: true,
  creation_date: '2026-03-01T09:00:00.123456+00:00',
  created_by: null,
};

const message = (decoded: DecodedValue): InboundMessage => ({
  value: Buffer.from([0, 0, 0, 0, 1]),
  decoded,
  position: { source: 'lms-enrollment/0', offset: 7 },
});
const eventBus = (eventType: string, value: unknown, eventTime?: string) =>
  parseInboundMessage(message({ kind: 'event-bus', eventType, eventTime, value }));

describe('event-bus enrollments', () => {
  it('reads a creation: learner, username from pii, course, mode, sent and created times', () => {
    expect(eventBus(CREATED, { enrollment }, '2026-03-01T09:00:01.5+00:00')).toEqual({
      kind: 'event',
      event: {
        kind: 'enrollment',
        action: 'activated',
        userId: 42,
        username: 'alice',
        courseId: 'course-v1:edX+DemoX+2026',
        time: at('2026-03-01T09:00:01.5Z'),
        createdAt: at('2026-03-01T09:00:00.123456Z'),
        mode: 'audit',
        isActive: true,
      },
    });
  });

  it('maps changes and unenrollments, and takes the creation time when ce_time is missing', () => {
    const changed = { enrollment: { ...enrollment, mode: 'verified', is_active: false } };
    expect(eventBus('org.openedx.learning.course.enrollment.changed.v1', changed)).toMatchObject({
      event: {
        action: 'changed',
        mode: 'verified',
        isActive: false,
        time: at('2026-03-01T09:00:00.123456Z'),
      },
    });
    expect(
      eventBus('org.openedx.learning.course.unenrollment.completed.v1', { enrollment }),
    ).toMatchObject({ event: { action: 'deactivated' } });
  });

  it('ignores other signals on the topic', () => {
    expect(eventBus('org.openedx.learning.auth.session.login.completed.v1', {})).toEqual({
      kind: 'ignored',
      reason: 'event type org.openedx.learning.auth.session.login.completed.v1',
    });
  });

  it.each([
    [{}, `${CREATED} without enrollment`],
    [
      { enrollment: { ...enrollment, user: { id: 0, pii: {} } } },
      'enrollment.user.id must be a positive integer (got 0)',
    ],
    [
      { enrollment: { ...enrollment, course: { course_key: '' } } },
      'enrollment without enrollment.course.course_key',
    ],
    [
      { enrollment: { ...enrollment, creation_date: 'yesterday' } },
      'enrollment.creation_date is not an ISO-8601 time',
    ],
  ])('rejects %j: %s', (value, reason) => {
    expect(eventBus(CREATED, value, '2026-03-01T09:00:01+00:00')).toEqual({
      kind: 'invalid',
      reason,
    });
  });

  it('rejects a bad ce_time, and passes on the reason a value could not be decoded', () => {
    expect(eventBus(CREATED, { enrollment }, 'soon')).toEqual({
      kind: 'invalid',
      reason: 'ce_time is not an ISO-8601 time',
    });
    expect(parseInboundMessage(message({ kind: 'undecodable', reason: 'truncated' }))).toEqual({
      kind: 'invalid',
      reason: 'truncated',
    });
  });
});

describe('the Confluent frame', () => {
  it('reads the schema id and the body', () => {
    const frame = readConfluentFrame(Buffer.from([0, 0, 1, 0, 2, 0xaa, 0xbb]));
    expect(frame).toEqual({ ok: true, schemaId: 65538, body: Buffer.from([0xaa, 0xbb]) });
  });

  it.each([
    [Buffer.from('{"a":1}'), 'bad magic byte 0x7b: a Confluent-framed value starts with 0x00'],
    [Buffer.alloc(0), 'bad magic byte (empty value): a Confluent-framed value starts with 0x00'],
    [Buffer.from([0, 0, 1]), 'truncated Confluent framing: 3 bytes, the header alone takes 5'],
  ])('rejects %j', (value, reason) => {
    expect(readConfluentFrame(value)).toEqual({ ok: false, reason });
  });
});
