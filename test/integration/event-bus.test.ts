// The worker on what Open edX really sends on its event bus: enrollment signals produced by
// edx-event-bus-kafka's own producer (signal.send_event with EVENT_BUS_PRODUCER_CONFIG, as the
// LMS does), Confluent-framed Avro with schemas in a real registry (Apicurio).
import type { AnalyticsMessage } from '@assigner/contracts';
import avro from 'avsc';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { produceEnrollmentEvents, type EnrollmentSignal } from '../../workloads/event-bus-producer';
import { readRawMessages, type RawMessage } from '../../workloads/raw-messages';
import { seededRandom } from '../../workloads/synthetic-log';
import { assignerAsync } from '../support/cli';
import { schemaRegistryUrl, waitFor } from '../support/real-services';
import {
  byId,
  experimentsOf,
  simulateLines,
  summary,
  WorkerSystem,
} from '../support/worker-harness';

jest.setTimeout(600_000);

const CREATED = 'org.openedx.learning.course.enrollment.created.v1';
const CHANGED = 'org.openedx.learning.course.enrollment.changed.v1';
const UNENROLLED = 'org.openedx.learning.course.unenrollment.completed.v1';
const SIGNAL_TYPES: Record<EnrollmentSignal['signal'], string> = {
  created: CREATED,
  changed: CHANGED,
  unenrolled: UNENROLLED,
};
const COURSES = [
  'course-v1:edX+DemoX+2026',
  'course-v1:MITx+6.00.1x+2T2026',
  'course-v1:HarvardX+CS50+2026',
];

const EXPERIMENTS = {
  experiments: [
    {
      namespace: 'course_experience',
      name: 'animated_exy',
      experimentId: 7,
      numBuckets: 2,
      triggers: ['enrollment'],
      flag: { everyone: true },
      keyValues: { enrollment_start: '2026-01-01T00:00:00Z' },
    },
    {
      namespace: 'experiments',
      name: 'four_way',
      numBuckets: 4,
      triggers: ['enrollment'],
      flag: { percent: 50 },
      bucketFlags: { '3': { users: ['learner1007'] } },
    },
    {
      // Decided at a learner's first enrollment anywhere: their enrollments in other courses
      // come on other partitions (the key is the course), in any order.
      namespace: 'experiments',
      name: 'site_wide',
      scope: 'global',
      numBuckets: 2,
      triggers: ['enrollment'],
      flag: { authenticated: true },
    },
  ],
};

/**
 * Enrollments of `learners` learners, in the order the LMS would send them: creations (a fifth
 * of the learners in a second course), then mode changes, then unenrollments.
 */
function enrollmentSignals(learners: number, firstUserId = 1001): EnrollmentSignal[] {
  // Seeded, so every run sends the same enrollments.
  const next = seededRandom(learners);
  const created: EnrollmentSignal[] = [];
  const later: EnrollmentSignal[] = [];
  const unenrolled: EnrollmentSignal[] = [];
  const creationDate = new Date().toISOString().replace('Z', '+00:00');
  for (let userId = firstUserId; userId < firstUserId + learners; userId++) {
    const first = Math.floor(next() * COURSES.length);
    const courses = next() < 0.2 ? [first, (first + 1) % COURSES.length] : [first];
    for (const course of courses) {
      const signal = (kind: EnrollmentSignal['signal'], mode: string): EnrollmentSignal => ({
        signal: kind,
        user_id: userId,
        username: `learner${userId}`,
        email: `learner${userId}@example.com`,
        name: `Learner ${userId}`,
        course_key: COURSES[course]!,
        course_name: `Course ${course}`,
        mode,
        is_active: kind !== 'unenrolled',
        creation_date: creationDate,
      });
      created.push(signal('created', 'audit'));
      const roll = next();
      if (roll < 0.3) later.push(signal('changed', 'verified'));
      else if (roll < 0.45) unenrolled.push(signal('unenrolled', 'audit'));
    }
  }
  return [...created, ...later, ...unenrolled];
}

const TRACKING_EVENT_TYPES: Record<EnrollmentSignal['signal'], string> = {
  created: 'edx.course.enrollment.activated',
  changed: 'edx.course.enrollment.mode_changed',
  unenrolled: 'edx.course.enrollment.deactivated',
};

/**
 * The tracking-log lines the LMS writes for the same enrollments, at the times the producer sent
 * them (`ce_time`): the signals of one course sit on one partition in the order they were sent,
 * and the key (the course key, Avro-framed) tells the course.
 */
function trackingLogOf(
  signals: readonly EnrollmentSignal[],
  sent: readonly RawMessage[],
): string[] {
  const queues = new Map(
    COURSES.map((course) => [course, signals.filter((s) => s.course_key === course)]),
  );
  const lines = sent.map((message) => {
    const course = COURSES.find((c) => message.key?.toString('latin1').endsWith(c));
    const signal = course === undefined ? undefined : queues.get(course)!.shift();
    if (!signal || SIGNAL_TYPES[signal.signal] !== message.headers.ce_type)
      throw new Error(`unexpected message at ${message.partition}/${message.offset}`);
    const time = message.headers.ce_time!;
    return {
      time,
      line: JSON.stringify({
        username: signal.username,
        host: '',
        event_source: 'server',
        event_type: TRACKING_EVENT_TYPES[signal.signal],
        context: { course_id: signal.course_key, org_id: 'x', user_id: signal.user_id },
        time,
        event: { course_id: signal.course_key, user_id: signal.user_id, mode: signal.mode },
      }),
    };
  });
  return lines.sort((a, b) => Date.parse(a.time) - Date.parse(b.time)).map(({ line }) => line);
}

const producerOptions = (system: WorkerSystem) => ({
  brokers: process.env.KAFKA_BROKERS!,
  registryUrl: schemaRegistryUrl(),
  // The worker's input topic is `<prefix>-<base topic>`, as edx-event-bus-kafka names topics.
  topicPrefix: system.id,
  baseTopic: 'input',
});

async function expectSameAsSimulate(
  system: WorkerSystem,
  signals: readonly EnrollmentSignal[],
  sent: readonly RawMessage[],
) {
  const reference = await simulateLines(trackingLogOf(signals, sent), experimentsOf(EXPERIMENTS));
  expect(reference.invalid).toBe(0);
  expect(reference.assignments.length).toBeGreaterThan(signals.length / 2);
  await waitFor('the worker to consume everything', () => system.consumedEverything(), 300_000);
  expect(summary(await system.storedAssignments())).toEqual(summary(reference.assignments));
  const analytics = await system.analytics(reference.analytics.length);
  // A site-wide experiment is decided at a learner's first enrollment anywhere, and their
  // enrollments in two courses sit on two partitions: the same bucket and message, reported at
  // the time of whichever enrollment the worker met first (here, sent a millisecond apart).
  const enrolledAt = new Map<number, Set<string>>();
  for (const m of reference.analytics)
    if (m.properties.experiment === 'animated_exy')
      enrolledAt.set(m.userId, (enrolledAt.get(m.userId) ?? new Set()).add(m.timestamp));
  for (const m of analytics.filter(isSiteWide))
    expect(enrolledAt.get(m.userId)).toContain(m.timestamp);
  const eitherEnrollment = (m: AnalyticsMessage) =>
    isSiteWide(m) ? { ...m, timestamp: 'one of the learner’s enrollments' } : m;
  expect(byId(analytics).map(eitherEnrollment)).toEqual(
    byId(reference.analytics).map(eitherEnrollment),
  );
  return reference;
}

const isSiteWide = (m: AnalyticsMessage) => m.properties.experiment === 'site_wide';

describe('the worker on the Open edX event bus', () => {
  let system: WorkerSystem;
  beforeEach(async () => {
    system = new WorkerSystem(3);
    await system.setUp(EXPERIMENTS);
  });
  afterEach(async () => {
    await system.tearDown();
  });

  it('decides on what edx-event-bus-kafka sends exactly as simulate on the same tracking-log events, and so does replay --topic', async () => {
    const signals = enrollmentSignals(300);
    await system.startWorker('event-bus', { SCHEMA_REGISTRY_URL: schemaRegistryUrl() });
    await produceEnrollmentEvents(producerOptions(system), signals);
    const sent = await readRawMessages(system.kafka, system.inputTopic, signals.length);
    expect(sent[0]!.headers).toMatchObject({
      'content-type': 'application/avro',
      ce_specversion: '1.0',
      ce_source: 'openedx/lms/web',
    });
    const reference = await expectSameAsSimulate(system, signals, sent);
    expect(await system.readAll(system.dlqTopic)).toEqual([]);

    // A backfill reads the same topic the same way: `assigner replay --topic` into a new store.
    const backfill = new WorkerSystem(3);
    await backfill.setUp(EXPERIMENTS);
    const dir = mkdtempSync(join(tmpdir(), 'event-bus-replay-'));
    try {
      const replay = await assignerAsync(
        [
          'replay',
          '--topic',
          system.inputTopic,
          '--checkpoint',
          join(dir, 'checkpoint.json'),
          '--no-publish',
        ],
        { ...process.env, MONGO_DB: backfill.database, SCHEMA_REGISTRY_URL: schemaRegistryUrl() },
      );
      expect(replay.status).toBe(0);
      expect(summary(await backfill.storedAssignments())).toEqual(summary(reference.assignments));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await backfill.tearDown();
    }
  });

  it('waits out a registry outage on schemas it has not seen yet: nothing lost, duplicated or dead-lettered', async () => {
    // Creations first; the changes and unenrollments, with their own schemas, are sent to a
    // side topic while the registry is up and moved to the input once it is down: so the worker
    // meets their schema ids only during the outage.
    const signals = enrollmentSignals(200, 5001);
    const creations = signals.filter((s) => s.signal === 'created');
    const others = signals.filter((s) => s.signal !== 'created');
    await system.startWorker('outage', { SCHEMA_REGISTRY_URL: schemaRegistryUrl() });
    await produceEnrollmentEvents(producerOptions(system), creations);
    const side = `${system.id}-side`;
    const admin = system.kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: side, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    await produceEnrollmentEvents({ ...producerOptions(system), baseTopic: 'side' }, others);
    const staged = await readRawMessages(system.kafka, side, others.length);
    await waitFor('the creations', () => system.consumedEverything(), 120_000);

    WorkerSystem.stopService('registry');
    try {
      const producer = system.kafka.producer();
      await producer.connect();
      await producer.send({
        topic: system.inputTopic,
        messages: staged.map(({ partition, key, value, headers }) => ({
          partition,
          key,
          value,
          headers,
        })),
      });
      await producer.disconnect();
      // Well past the decoder's first retries: it is still waiting, and has given up on nothing.
      await new Promise((resolve) => setTimeout(resolve, 8000));
      expect(await system.consumedEverything()).toBe(false);
      expect(await system.readAll(system.dlqTopic)).toEqual([]);
    } finally {
      WorkerSystem.startServices();
    }
    const sent = await readRawMessages(system.kafka, system.inputTopic, signals.length);
    await expectSameAsSimulate(system, signals, sent);
    expect(await system.readAll(system.dlqTopic)).toEqual([]);
    await admin.connect();
    await admin.deleteTopics({ topics: [side] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('dead-letters poison with the reason, ignores other signals and reads a newer writer schema', async () => {
    const [signal] = enrollmentSignals(1, 9001);
    await system.startWorker('poison', { SCHEMA_REGISTRY_URL: schemaRegistryUrl() });
    await produceEnrollmentEvents(producerOptions(system), [signal!]);
    const [real] = await readRawMessages(system.kafka, system.inputTopic, 1);
    const value = real!.value!;
    const schemaId = value.readUInt32BE(1);
    const registry = schemaRegistryUrl();
    const writer = JSON.parse(
      ((await (await fetch(`${registry}/schemas/ids/${schemaId}`)).json()) as { schema: string })
        .schema,
    ) as { fields: { type: { fields: unknown[] } }[] };

    // A v1 writer schema with an added optional field, as a newer openedx-events would send.
    const newer = structuredClone(writer);
    newer.fields[0]!.type.fields.push({
      name: 'enterprise_uuid',
      type: ['null', 'string'],
      default: null,
    });
    const other = {
      type: 'record',
      name: 'CloudEvent',
      namespace: 'org.example.not.an.enrollment',
      fields: [{ name: 'note', type: 'string' }],
    };
    const register = async (subject: string, schema: unknown) => {
      const response = await fetch(`${registry}/subjects/${subject}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: JSON.stringify(schema) }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { id: number }).id;
    };
    const frame = (id: number, body: Buffer) => {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(id, 1);
      return Buffer.concat([header, body]);
    };
    const newerId = await register(`${system.inputTopic}-${CREATED}.CloudEvent-newer`, newer);
    const otherId = await register(`${system.inputTopic}-org.example.CloudEvent`, other);
    const decoded = avro.Type.forSchema(writer as avro.Schema).fromBuffer(value.subarray(5)) as {
      enrollment: { user: { id: number; pii: { username: string } } };
    };
    decoded.enrollment.user.id = 9002;
    decoded.enrollment.user.pii.username = 'learner9002';
    const newerValue = frame(
      newerId,
      avro.Type.forSchema(newer as avro.Schema).toBuffer({
        enrollment: { ...decoded.enrollment, enterprise_uuid: 'e-1' },
      }),
    );

    const headers = real!.headers;
    const poison = [
      { value: Buffer.concat([Buffer.from([1]), value.subarray(1)]), headers },
      { value: value.subarray(0, value.length - 8), headers },
      {
        value: frame(otherId, avro.Type.forSchema(other as avro.Schema).toBuffer({ note: 'x' })),
        headers,
      },
    ];
    const login = { ...headers, ce_type: 'org.openedx.learning.auth.session.login.completed.v1' };
    const producer = system.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: system.inputTopic,
      messages: [
        ...poison.map((m) => ({ ...m, key: real!.key, partition: real!.partition })),
        {
          key: real!.key,
          partition: real!.partition,
          value: Buffer.from([0, 0, 0, 0, 1]),
          headers: login,
        },
        { key: real!.key, partition: real!.partition, value: newerValue, headers },
      ],
    });
    await producer.disconnect();

    await waitFor('the worker to consume everything', () => system.consumedEverything(), 120_000);
    const deadLetters = await system.readAll(system.dlqTopic, 3);
    const reasons = deadLetters.map((m) => m.headers['dlq-reason']);
    expect(reasons).toHaveLength(3);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'bad magic byte 0x01: a Confluent-framed value starts with 0x00',
        expect.stringMatching(new RegExp(`^undecodable Avro body for schema ${schemaId}: `)),
        expect.stringMatching(
          new RegExp(
            `^schema ${otherId} is not a ${CREATED.replaceAll('.', '\\.')} enrollment record: `,
          ),
        ),
      ]),
    );
    const analytics: AnalyticsMessage[] = await system.analytics(2);
    expect(new Set(analytics.map((m) => m.userId))).toEqual(new Set([9001, 9002]));
  });
});
