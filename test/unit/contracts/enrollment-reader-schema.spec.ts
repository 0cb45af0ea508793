import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { enrollmentReaderSchema } from '@assigner/contracts';
import avro from 'avsc';

// The writer schemas openedx-events 10.5.0 registers for the three signals, as the registry
// serves them (read back after edx-event-bus-kafka produced through it).
const TYPES = [
  'org.openedx.learning.course.enrollment.created.v1',
  'org.openedx.learning.course.enrollment.changed.v1',
  'org.openedx.learning.course.unenrollment.completed.v1',
];
const writerSchema = (eventType: string) =>
  JSON.parse(
    readFileSync(join(__dirname, '../../fixtures/event-bus', `${eventType}.avsc`), 'utf8'),
  ) as { fields: { type: { fields: unknown[] } }[] };

const enrollment = {
  user: { id: 7, is_active: true, pii: { username: 'ada', email: 'a@x.org', name: 'Ada' } },
  course: { course_key: 'course-v1:A+B+C', display_name: 'C', start: null, end: null },
  mode: 'audit',
  is_active: true,
  creation_date: '2026-03-01T09:00:00+00:00',
  created_by: null,
};
const expected = {
  enrollment: {
    user: { id: 7, pii: { username: 'ada' } },
    course: { course_key: 'course-v1:A+B+C' },
    mode: 'audit',
    is_active: true,
    creation_date: '2026-03-01T09:00:00+00:00',
  },
};

const readThrough = (writer: unknown, eventType: string, value: unknown): unknown => {
  const writerType = avro.Type.forSchema(writer as avro.Schema);
  const reader = avro.Type.forSchema(enrollmentReaderSchema(eventType) as avro.Schema);
  const decoded: unknown = reader.fromBuffer(
    writerType.toBuffer(value),
    reader.createResolver(writerType),
  );
  return decoded;
};

describe('the enrollment reader schema', () => {
  it.each(TYPES)('reads what openedx-events writes for %s', (eventType) => {
    expect(readThrough(writerSchema(eventType), eventType, { enrollment })).toEqual(expected);
  });

  it('reads a newer writer schema with an added optional field', () => {
    const [eventType] = TYPES as [string];
    const newer = structuredClone(writerSchema(eventType));
    newer.fields[0]!.type.fields.push({ name: 'note', type: ['null', 'string'], default: null });
    expect(readThrough(newer, eventType, { enrollment: { ...enrollment, note: 'x' } })).toEqual(
      expected,
    );
  });

  it('refuses a record of another signal, or of another shape', () => {
    const [created, changed] = TYPES as [string, string];
    expect(() => readThrough(writerSchema(changed), created, { enrollment })).toThrow();
    const other = { type: 'record', name: 'CloudEvent', namespace: created, fields: [] };
    expect(() => readThrough(other, created, {})).toThrow();
  });
});
