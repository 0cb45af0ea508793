import {
  parseIsoMicros,
  usableUsername,
  type EnrollmentAction,
  type Micros,
} from '@assigner/domain';
import type { InboundResult } from './parse-inbound';

/**
 * The Open edX event-bus signals this service reads (openedx-events), each a record `CloudEvent`
 * in the event type's namespace with one field `enrollment: CourseEnrollmentData`.
 */
const ENROLLMENT_ACTIONS: Readonly<Record<string, EnrollmentAction>> = {
  'org.openedx.learning.course.enrollment.created.v1': 'activated',
  'org.openedx.learning.course.enrollment.changed.v1': 'changed',
  'org.openedx.learning.course.unenrollment.completed.v1': 'deactivated',
};

export function isEnrollmentEventType(eventType: string): boolean {
  return Object.hasOwn(ENROLLMENT_ACTIONS, eventType);
}

/** An Avro schema, as JSON. */
export type AvroSchemaJson = Readonly<Record<string, unknown>>;

/**
 * The reader schema for an enrollment signal: only the fields this service uses. Decoding with it
 * resolves any writer schema of that signal that has them (newer ones add fields), and fails for
 * a record that is not an enrollment. Nested records take the event type's namespace, as
 * openedx-events names them.
 */
export function enrollmentReaderSchema(eventType: string): AvroSchemaJson {
  return {
    type: 'record',
    name: 'CloudEvent',
    namespace: eventType,
    fields: [
      {
        name: 'enrollment',
        type: {
          type: 'record',
          name: 'CourseEnrollmentData',
          fields: [
            {
              name: 'user',
              type: {
                type: 'record',
                name: 'UserData',
                fields: [
                  { name: 'id', type: 'long' },
                  {
                    name: 'pii',
                    type: {
                      type: 'record',
                      name: 'UserPersonalData',
                      fields: [{ name: 'username', type: 'string' }],
                    },
                  },
                ],
              },
            },
            {
              name: 'course',
              type: {
                type: 'record',
                name: 'CourseData',
                fields: [{ name: 'course_key', type: 'string' }],
              },
            },
            { name: 'mode', type: 'string' },
            { name: 'is_active', type: 'boolean' },
            { name: 'creation_date', type: 'string' },
          ],
        },
      },
    ],
  };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const invalid = (reason: string): InboundResult => ({ kind: 'invalid', reason });

/**
 * One decoded event-bus value (`{enrollment: CourseEnrollmentData}`) as an enrollment event. Its
 * time is the signal's `ce_time` (when the LMS sent it); the enrollment's `creation_date` is its
 * creation time, which the enrollment windows use, and stands in for a missing `ce_time`.
 */
export function enrollmentFromEventBus(
  eventType: string,
  value: unknown,
  ceTime: string | undefined,
): InboundResult {
  const action = ENROLLMENT_ACTIONS[eventType];
  if (!action) return { kind: 'ignored', reason: `event type ${eventType.slice(0, 80)}` };
  const data = isObject(value) ? value.enrollment : undefined;
  if (!isObject(data)) return invalid(`${eventType} without enrollment`);
  const user = isObject(data.user) ? data.user : {};
  const course = isObject(data.course) ? data.course : {};
  const pii = isObject(user.pii) ? user.pii : {};
  if (typeof user.id !== 'number' || !Number.isSafeInteger(user.id) || user.id <= 0)
    return invalid(
      `enrollment.user.id must be a positive integer (got ${String(user.id).slice(0, 40)})`,
    );
  if (typeof course.course_key !== 'string' || course.course_key === '')
    return invalid('enrollment without enrollment.course.course_key');
  const createdAt = parseTime(data.creation_date);
  if (createdAt === undefined) return invalid('enrollment.creation_date is not an ISO-8601 time');
  const sentAt = ceTime === undefined ? createdAt : parseTime(ceTime);
  if (sentAt === undefined) return invalid('ce_time is not an ISO-8601 time');
  return {
    kind: 'event',
    event: {
      kind: 'enrollment',
      action,
      userId: user.id,
      courseId: course.course_key,
      time: sentAt,
      createdAt,
      mode: typeof data.mode === 'string' && data.mode !== '' ? data.mode : undefined,
      isActive: typeof data.is_active === 'boolean' ? data.is_active : undefined,
      username: usableUsername(pii.username),
    },
  };
}

const parseTime = (value: unknown): Micros | undefined =>
  typeof value === 'string' ? parseIsoMicros(value) : undefined;
