import {
  parseIsoMicros,
  usableUsername,
  type EnrollmentAction,
  type LearnerEvent,
  type Micros,
} from '@assigner/domain';
import { enrollmentFromEventBus } from './event-bus-enrollment';
import type { InboundMessage } from './inbound-message';

export type InboundResult =
  | { kind: 'event'; event: LearnerEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const invalid = (reason: string): InboundResult => ({ kind: 'invalid', reason });
const ignored = (reason: string): InboundResult => ({ kind: 'ignored', reason });

const TRACKING_ENROLLMENT: Readonly<Record<string, EnrollmentAction>> = {
  'edx.course.enrollment.activated': 'activated',
  'edx.course.enrollment.deactivated': 'deactivated',
  'edx.course.enrollment.mode_changed': 'mode_changed',
};

const NATIVE_PREFIX = 'experiment-assigner.';

/** A user id field: absent, or a positive integer; anything else makes the event invalid. */
type UserIdField = { ok: true; userId?: number } | { ok: false; reason: string };

function userIdField(value: unknown, field: string, emptyMeansAbsent: boolean): UserIdField {
  if (value === undefined || value === null || (emptyMeansAbsent && value === ''))
    return { ok: true };
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0)
    return { ok: true, userId: value };
  return {
    ok: false,
    reason: `${field} must be a positive integer (got ${JSON.stringify(value).slice(0, 40)})`,
  };
}

function timeField(
  value: unknown,
  field: string,
): { ok: true; time: Micros } | { ok: false; reason: string } {
  if (typeof value !== 'string') return { ok: false, reason: `${field} is missing` };
  const time = parseIsoMicros(value);
  return time === undefined
    ? { ok: false, reason: `${field} is not an ISO-8601 time` }
    : { ok: true, time };
}

/** Like timeField, for fields that may be absent (undefined or null). */
function optionalTimeField(
  value: unknown,
  field: string,
): { ok: true; time?: Micros } | { ok: false; reason: string } {
  return value === undefined || value === null ? { ok: true } : timeField(value, field);
}

const nonEmptyString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** Open edX tracking-log `event` payloads are objects, or JSON text for browser events. */
function trackingPayload(value: unknown): Json {
  if (isObject(value)) return value;
  if (typeof value === 'string' && value.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isObject(parsed)) return parsed;
    } catch {
      // Not JSON: no payload fields.
    }
  }
  return {};
}

function fromTrackingLog(record: Json, eventType: string): InboundResult {
  const context = isObject(record.context) ? record.context : {};
  const common = { username: usableUsername(record.username), site: nonEmptyString(record.host) };
  const action =
    TRACKING_ENROLLMENT[eventType] ??
    (typeof record.name === 'string' ? TRACKING_ENROLLMENT[record.name] : undefined);

  if (action) {
    const payload = trackingPayload(record.event);
    const fromEvent = payload.user_id !== undefined && payload.user_id !== null;
    const user = userIdField(
      fromEvent ? payload.user_id : context.user_id,
      fromEvent ? 'event.user_id' : 'context.user_id',
      false,
    );
    if (!user.ok) return invalid(user.reason);
    if (user.userId === undefined) return invalid('enrollment without a user id');
    const courseId = nonEmptyString(payload.course_id);
    if (!courseId) return invalid('enrollment without event.course_id');
    const time = timeField(record.time, 'time');
    if (!time.ok) return invalid(time.reason);
    return {
      kind: 'event',
      event: {
        kind: 'enrollment',
        action,
        userId: user.userId,
        courseId,
        time: time.time,
        mode: nonEmptyString(payload.mode),
        ...common,
      },
    };
  }

  if (
    record.event_source === 'server' &&
    (eventType === '/courses' || eventType.startsWith('/courses/'))
  ) {
    const user = userIdField(context.user_id, 'context.user_id', true);
    if (!user.ok) return invalid(user.reason);
    const time = timeField(record.time, 'time');
    if (!time.ok) return invalid(time.reason);
    return {
      kind: 'event',
      event: {
        kind: 'page_view',
        userId: user.userId,
        courseId: nonEmptyString(context.course_id),
        time: time.time,
        ...common,
      },
    };
  }
  return ignored(`event type ${eventType.slice(0, 80)}`);
}

/** The project's own shape: `{"type": "experiment-assigner.page_view" | "experiment-assigner.enrollment", ...}`. */
function fromNative(record: Json, type: string): InboundResult {
  const kind = type.slice(NATIVE_PREFIX.length);
  if (kind !== 'page_view' && kind !== 'enrollment')
    return ignored(`event type ${type.slice(0, 80)}`);
  const user = userIdField(record.user_id, 'user_id', kind === 'page_view');
  if (!user.ok) return invalid(user.reason);
  const time = timeField(record.time, 'time');
  if (!time.ok) return invalid(time.reason);
  const common = {
    time: time.time,
    username: usableUsername(record.username),
    site: nonEmptyString(record.site),
    isStaff: typeof record.is_staff === 'boolean' ? record.is_staff : undefined,
    masquerading: record.masquerading === true,
  };
  const courseId = nonEmptyString(record.course_id);
  if (kind === 'page_view')
    return {
      kind: 'event',
      event: { kind: 'page_view', userId: user.userId, courseId, ...common },
    };
  if (user.userId === undefined) return invalid('enrollment without a user id');
  if (!courseId) return invalid('enrollment without course_id');
  const action = record.action ?? 'activated';
  if (action !== 'activated' && action !== 'deactivated' && action !== 'mode_changed') {
    return invalid('action must be "activated", "deactivated" or "mode_changed"');
  }
  const created = optionalTimeField(record.created_at, 'created_at');
  if (!created.ok) return invalid(created.reason);
  const createdAt = created.time;
  return {
    kind: 'event',
    event: {
      kind: 'enrollment',
      action,
      userId: user.userId,
      courseId,
      createdAt,
      mode: nonEmptyString(record.mode),
      ...common,
    },
  };
}

/** Parses one Kafka message: what the messaging layer decoded (event bus), or its text. */
export function parseInboundMessage(message: InboundMessage): InboundResult {
  const { decoded } = message;
  if (decoded === undefined) return parseInbound(message.value);
  return decoded.kind === 'undecodable'
    ? invalid(decoded.reason)
    : enrollmentFromEventBus(decoded.eventType, decoded.value, decoded.eventTime);
}

/**
 * Classifies one text message (a Kafka value or a log line: tracking log or native) and
 * normalises it. Never throws:
 * whatever the bytes, the answer is an event, ignored (a format or event type this service has
 * no use for) or invalid (with the reason, for the dead-letter topic).
 */
export function parseInbound(raw: string | Buffer | null): InboundResult {
  if (raw === null) return invalid('empty message');
  let record: unknown;
  try {
    record = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return invalid('not JSON');
  }
  if (!isObject(record)) return invalid('not a JSON object');

  if (typeof record.type === 'string' && record.type.startsWith(NATIVE_PREFIX))
    return fromNative(record, record.type);
  const eventType =
    typeof record.event_type === 'string'
      ? record.event_type
      : typeof record.name === 'string'
        ? record.name
        : undefined;
  if (eventType !== undefined) return fromTrackingLog(record, eventType);
  return ignored('unrecognised format');
}
