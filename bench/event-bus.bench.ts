// What reading the Open edX event bus costs the worker: the same enrollments, once as the
// Confluent-framed Avro edx-event-bus-kafka sends (through Open edX's own producer), once as the
// JSON tracking-log lines the LMS writes for them, on the same partitions in the same order.
// Prints the worker's events/s on each (alternating runs, each on a fresh store) and the
// decoder's own time per message, measured in this process on the same messages: its share of
// the worker's time per event is the figure the README quotes.
// Needs the services (`npm run services -- start`, then `eval "$(npm run -s services -- env)"`)
// and the producer's venv (`npm test` makes it).
import { validateExperimentsFile, type InboundMessage } from '@assigner/contracts';
import { EventBusDecoder, ensureTopics } from '@assigner/messaging';
import { ExperimentRepository } from '@assigner/persistence';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { produceEnrollmentEvents, type EnrollmentSignal } from '../workloads/event-bus-producer';
import { readRawMessages, type RawMessage } from '../workloads/raw-messages';

const ROOT = join(__dirname, '..', '..');
const { KAFKA_BROKERS, MONGO_URL, SCHEMA_REGISTRY_URL } = process.env;
if (!KAFKA_BROKERS || !MONGO_URL || !SCHEMA_REGISTRY_URL)
  throw new Error(
    'set KAFKA_BROKERS, MONGO_URL and SCHEMA_REGISTRY_URL (eval "$(npm run -s services -- env)")',
  );
const EVENTS = Number(process.argv[2] ?? 30_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const PARTITIONS = 6;
// Many courses, so that the course key (the event bus's key) spreads over every partition.
const COURSES = Array.from({ length: 48 }, (_, i) => `course-v1:BenchX+C${i}+2026`);

const EXPERIMENTS = validateExperimentsFile({
  experiments: [
    {
      namespace: 'course_experience',
      name: 'animated_exy',
      numBuckets: 2,
      triggers: ['enrollment'],
      flag: { everyone: true },
    },
    {
      namespace: 'experiments',
      name: 'four_way',
      numBuckets: 4,
      triggers: ['enrollment'],
      flag: { percent: 50 },
    },
  ],
});
if (!EXPERIMENTS.ok) throw new Error(EXPERIMENTS.problems.join('\n'));

const kafka = new Kafka({
  clientId: 'bench',
  brokers: KAFKA_BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const mongo = new MongoClient(MONGO_URL);
const id = `bench-eventbus-${randomBytes(3).toString('hex')}`;

/** Creations of new learners, some with a mode change after. */
function signals(count: number): EnrollmentSignal[] {
  const creationDate = new Date().toISOString().replace('Z', '+00:00');
  const out: EnrollmentSignal[] = [];
  for (let i = 0; out.length < count; i++) {
    const userId = 100_000 + i;
    const base = {
      user_id: userId,
      username: `learner${userId}`,
      email: `learner${userId}@example.com`,
      name: `Learner ${userId}`,
      course_key: COURSES[i % COURSES.length]!,
      course_name: 'Bench course',
      is_active: true,
      creation_date: creationDate,
    };
    out.push({ ...base, signal: 'created', mode: 'audit' });
    if (i % 5 === 0 && out.length < count)
      out.push({ ...base, signal: 'changed', mode: 'verified' });
  }
  return out;
}

const inbound = (messages: readonly RawMessage[]): InboundMessage[] =>
  messages.map((m) => ({
    value: m.value,
    key: m.key,
    headers: m.headers,
    position: { source: `bench/${m.partition}`, offset: m.offset },
  }));

/** The decoder's time per message on warm caches, as the worker runs it batch after batch. */
async function decodeMicros(decoder: EventBusDecoder, messages: InboundMessage[]): Promise<number> {
  await decoder.decode(messages, () => true);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < messages.length; i += 500)
      await decoder.decode(messages.slice(i, i + 500), () => true);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / messages.length);
  }
  return best;
}

/** The tracking-log line the LMS writes for one decoded event-bus enrollment. */
function trackingLine(message: InboundMessage): string {
  const decoded = message.decoded;
  if (decoded?.kind !== 'event-bus') throw new Error(`not decoded: ${JSON.stringify(decoded)}`);
  const { enrollment } = decoded.value as {
    enrollment: {
      user: { id: number; pii: { username: string } };
      course: { course_key: string };
      mode: string;
    };
  };
  const course = enrollment.course.course_key;
  return JSON.stringify({
    username: enrollment.user.pii.username,
    host: '',
    event_source: 'server',
    event_type: decoded.eventType.endsWith('created.v1')
      ? 'edx.course.enrollment.activated'
      : 'edx.course.enrollment.mode_changed',
    context: { course_id: course, org_id: 'BenchX', user_id: enrollment.user.id },
    time: decoded.eventTime,
    event: { course_id: course, user_id: enrollment.user.id, mode: enrollment.mode },
  });
}

/** The worker on one topic, from process start to every offset committed, on a fresh store. */
async function workerEventsPerSecond(topic: string, count: number, run: string): Promise<number> {
  const database = `${id}_${run}`.replaceAll('-', '_');
  const repository = new ExperimentRepository(mongo.db(database));
  for (const experiment of EXPERIMENTS.ok ? EXPERIMENTS.value : [])
    await repository.save(experiment, { actor: 'bench' });
  const groupId = `${id}-${run}-group`;
  const started = Date.now();
  const worker = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'worker', 'src', 'main.js')], {
    env: {
      ...process.env,
      INPUT_TOPICS: topic,
      ANALYTICS_TOPIC: `${id}-${run}-analytics`,
      DLQ_TOPIC: `${id}-${run}-dlq`,
      WORKER_GROUP_ID: groupId,
      MONGO_DB: database,
      TOPIC_PARTITIONS: String(PARTITIONS),
      WORKER_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const done = (offsets?.partitions ?? []).reduce(
        (sum, p) => sum + Math.max(0, Number(p.offset)),
        0,
      );
      if (done >= count) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
    worker.kill('SIGTERM');
  }
  return count / ((Date.now() - started) / 1000);
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  await mongo.connect();
  const avroTopic = `${id}-avro`;
  const jsonTopic = `${id}-json`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    kafka,
    [avroTopic, jsonTopic].map((topic) => ({ topic, setting: 'bench', numPartitions: PARTITIONS })),
  );

  const events = signals(EVENTS);
  const sendStarted = Date.now();
  await produceEnrollmentEvents(
    {
      brokers: KAFKA_BROKERS!,
      registryUrl: SCHEMA_REGISTRY_URL!,
      topicPrefix: id,
      baseTopic: 'avro',
      timeoutMs: 600_000,
    },
    events,
  );
  process.stdout.write(
    `edx-event-bus-kafka sent ${events.length} enrollments in ${((Date.now() - sendStarted) / 1000).toFixed(1)} s\n`,
  );
  const avro = await readRawMessages(kafka, avroTopic, events.length);
  const decoder = new EventBusDecoder({
    registryUrl: SCHEMA_REGISTRY_URL,
    logger: pino({ level: 'warn' }),
  });
  const messages = inbound(avro);
  const micros = await decodeMicros(decoder, messages);
  const decoded = await decoder.decode(messages, () => true);
  if (!decoded.ok) throw new Error('decoding abandoned');
  const producer = kafka.producer();
  await producer.connect();
  const json: Message[] = decoded.messages.map((message, i) => ({
    partition: avro[i]!.partition,
    key: avro[i]!.key,
    value: trackingLine(message),
  }));
  for (let i = 0; i < json.length; i += 2000)
    await producer.send({ topic: jsonTopic, messages: json.slice(i, i + 2000) });
  await producer.disconnect();

  const rates = { avro: [] as number[], json: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    rates.json.push(await workerEventsPerSecond(jsonTopic, events.length, `json${round}`));
    rates.avro.push(await workerEventsPerSecond(avroTopic, events.length, `avro${round}`));
  }
  const avroRate = median(rates.avro);
  const jsonRate = median(rates.json);
  const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
  process.stdout.write(
    [
      `worker on ${events.length} JSON tracking-log lines: ${list(rates.json)} events/s (median ${jsonRate.toFixed(0)}; process start included)`,
      `worker on the same enrollments as event-bus Avro: ${list(rates.avro)} events/s (median ${avroRate.toFixed(0)})`,
      `avro / json events/s: ${(avroRate / jsonRate).toFixed(3)}`,
      `decoder: ${micros.toFixed(2)} µs per message (warm schema cache, batches of 500)`,
      `decoding's share of the worker's time per Avro event: ${((micros * avroRate) / 1e4).toFixed(2)}% (target ≤ 5%)`,
      '',
    ].join('\n'),
  );
  const runs = [...rates.json.keys()].flatMap((round) => [`json${round}`, `avro${round}`]);
  await admin
    .deleteTopics({
      topics: [
        avroTopic,
        jsonTopic,
        ...runs.flatMap((run) => [`${id}-${run}-analytics`, `${id}-${run}-dlq`]),
      ],
    })
    .catch(() => undefined);
  await admin.disconnect();
  await mongo.close();
}

void main();
