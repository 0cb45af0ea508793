// Events per second of the worker against a naive baseline, on the same running Kafka and store
// (`npm run services -- start`, then `eval "$(npm run -s services -- env)"`):
// - worker: the real worker process (batches, one transaction per partition batch);
// - naive: eachMessage, and for every event a load, a save and a send of its own.
// The input is the synthetic mix: mostly repeat page views of learners already assigned.
import { ExperimentRepository, LearnerStateRepository } from '@assigner/persistence';
import { BatchAssigner } from '@assigner/pipeline';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ensureTopics } from '@assigner/messaging';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { benchExperiments, syntheticTrackingLog, userKey } from '../workloads/synthetic-log';

const ROOT = join(__dirname, '..', '..');
const { KAFKA_BROKERS, MONGO_URL } = process.env;
if (!KAFKA_BROKERS || !MONGO_URL) {
  throw new Error('set KAFKA_BROKERS and MONGO_URL (eval "$(npm run -s services -- env)")');
}
const WORKER_EVENTS = Number(process.argv[2] ?? 40_000);
const NAIVE_EVENTS = Number(process.argv[3] ?? 2_000);
const kafka = new Kafka({
  clientId: 'bench',
  brokers: KAFKA_BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const mongo = new MongoClient(MONGO_URL);
const experiments = benchExperiments();

async function prepare(name: string, lines: string[]) {
  const id = `bench-${name}-${randomBytes(3).toString('hex')}`;
  await ensureTopics(
    kafka,
    ['input', 'analytics', 'dlq'].map((t) => ({
      topic: `${id}-${t}`,
      setting: 'bench',
      numPartitions: 6,
    })),
  );
  const db = mongo.db(id.replaceAll('-', '_'));
  for (const experiment of experiments)
    await new ExperimentRepository(db).save(experiment, { actor: 'bench' });
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < lines.length; i += 5000) {
    await producer.send({
      topic: `${id}-input`,
      messages: lines.slice(i, i + 5000).map((value) => ({ key: userKey(value), value })),
    });
  }
  await producer.disconnect();
  return { id, db };
}

async function committed(groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

async function benchWorker(lines: string[]): Promise<number> {
  const { id } = await prepare('worker', lines);
  const started = Date.now();
  const worker = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'worker', 'src', 'main.js')], {
    env: {
      ...process.env,
      INPUT_TOPICS: `${id}-input`,
      ANALYTICS_TOPIC: `${id}-analytics`,
      DLQ_TOPIC: `${id}-dlq`,
      WORKER_GROUP_ID: `${id}-group`,
      MONGO_DB: id.replaceAll('-', '_'),
      WORKER_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  while ((await committed(`${id}-group`, `${id}-input`)) < lines.length)
    await new Promise((r) => setTimeout(r, 200));
  const seconds = (Date.now() - started) / 1000;
  worker.kill('SIGTERM');
  return lines.length / seconds;
}

async function benchNaive(lines: string[]): Promise<number> {
  const { id, db } = await prepare('naive', lines);
  const assigner = new BatchAssigner(new LearnerStateRepository(db));
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `${id}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic: `${id}-input`, fromBeginning: true });
  let done = 0;
  const started = Date.now();
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const result = await assigner.process(
        [
          {
            value: message.value,
            position: { source: `${topic}/${partition}`, offset: Number(message.offset) },
          },
        ],
        experiments,
      );
      for (const analytics of result.analytics) {
        await producer.send({
          topic: `${id}-analytics`,
          messages: [{ key: String(analytics.userId), value: JSON.stringify(analytics) }],
        });
      }
      done += 1;
    },
  });
  while (done < lines.length) await new Promise((r) => setTimeout(r, 200));
  const seconds = (Date.now() - started) / 1000;
  await consumer.disconnect();
  await producer.disconnect();
  return lines.length / seconds;
}

async function main(): Promise<void> {
  await mongo.connect();
  const all = [
    ...syntheticTrackingLog({
      lines: WORKER_EVENTS,
      users: Math.ceil(WORKER_EVENTS / 20),
      seed: 3,
    }),
  ];
  const worker = await benchWorker(all);
  process.stdout.write(
    `worker: ${WORKER_EVENTS} events, ${worker.toFixed(0)} events/s (process start included)\n`,
  );
  const naive = await benchNaive(all.slice(0, NAIVE_EVENTS));
  process.stdout.write(
    `naive (per-event load, save, send): ${NAIVE_EVENTS} events, ${naive.toFixed(0)} events/s\n`,
  );
  process.stdout.write(`worker / naive: ${(worker / naive).toFixed(1)}x\n`);
  await mongo.close();
}

void main();
