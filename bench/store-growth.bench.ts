// How the worker, a replay and the admin API hold up as the store grows, on the running Kafka and
// store (`eval "$(npm run -s services -- env)"`):
//   node dist/bench/store-growth.bench.js [fill1=100000] [fill2=1000000] [events=40000] [replay=100000]
// 1. raw pass-through: a plain kafkajs transactional consume→produce loop, no store (the ceiling
//    the worker's Kafka side allows);
// 2. the worker process on a fresh input of new learners with 0, fill1 and fill2 learners stored;
// 3. between those, the store filled to fill1 then fill2 learners as a backfill does (BatchAssigner
//    over LearnerStateRepository, 50k lines per call: an enrollment and a page view per learner);
// 4. `assigner replay --no-publish` of the replay bench's log into an empty store and the full one;
// 5. admin API latencies (explain, lookups by id and username, stats and daily stats) on the full
//    store, and how long the stats' first count of it took.
// Everything it makes (topics and databases named bench-growth-* / bench_growth_*, processes) is
// removed at the end, also on failure or Ctrl-C.
import { AppConfig } from '@assigner/config';
import { batchFetchLimits, ensureTopics } from '@assigner/messaging';
import { ExperimentRepository, LearnerStateRepository } from '@assigner/persistence';
import type { InboundMessage } from '@assigner/contracts';
import { BatchAssigner } from '@assigner/pipeline';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, KafkaJSDeleteGroupsError, logLevel, type Admin, type Producer } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import {
  BENCH_COURSES,
  benchExperiments,
  coursewareViewLine,
  enrollmentLine,
  logStamp,
  syntheticTrackingLog,
  userKey,
} from '../workloads/synthetic-log';

const ROOT = join(__dirname, '..', '..');
const WORKER = join(ROOT, 'dist', 'apps', 'worker', 'src', 'main.js');
const CLI = join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
const ADMIN_API = join(ROOT, 'dist', 'apps', 'admin-api', 'src', 'main.js');
const { KAFKA_BROKERS, MONGO_URL } = process.env;
if (!KAFKA_BROKERS || !MONGO_URL) {
  throw new Error('set KAFKA_BROKERS and MONGO_URL (eval "$(npm run -s services -- env)")');
}

function sizeArg(index: number, fallback: number): number {
  const raw = process.argv[index];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`argument ${raw}: not a count`);
  return value;
}
const FILL1 = sizeArg(2, 100_000);
const FILL2 = sizeArg(3, 1_000_000);
const EVENTS = sizeArg(4, 40_000);
const REPLAY_LINES = sizeArg(5, 100_000);
if (FILL2 <= FILL1) throw new Error('fill2 must be larger than fill1');

const PARTITIONS = 6;
const FILL_CHUNK = 50_000;
const WORKER_SEED = 3;
// User id ranges, disjoint: the fill's learners from 10M up; each worker run's 40k input (ids
// 1 … events/20 of the synthetic log) shifted by a million per run; the replay log's at 5M. So
// every input meets only learners the store has not seen.
const FILL_FIRST_ID = 10_000_000;
const WORKER_FIRST_IDS = [1, 1_000_001, 2_000_001] as const;
const REPLAY_FIRST_ID = 5_000_001;
const ADMIN_REQUESTS = 200;
const STATS_FIRST_COUNT_LIMIT_S = 900;
const LOOKUP_TIMEOUT_MS = 60_000;
const EXPERIMENT = 'course_experience.animated_exy';
const ADMIN_SECRET = '0123456789abcdef0123';
const GROUP_ID_NOT_FOUND = 69;
/** A worker whose committed offsets stand still this long is stuck (or its store is): fail. */
const STALL_MS = 300_000;

const RUN = `bench-growth-${randomBytes(3).toString('hex')}`;
const DB_NAME = RUN.replaceAll('-', '_');
const EMPTY_DB_NAME = `${DB_NAME}_empty`;

const kafka = new Kafka({
  clientId: RUN,
  brokers: KAFKA_BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const mongo = new MongoClient(MONGO_URL);
const experiments = benchExperiments();

let interrupted = false;
/** Ends the run at the next check once a signal asked it to stop. */
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

/** Every child process still running, so that cleanup can stop each by its PID. */
const children = new Set<ChildProcess>();
const workDir = mkdtempSync(join(tmpdir(), `${RUN}-`));

const say = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`  … ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => (performance.now() - since) / 1000;
const perSecond = (value: number, unit = 'events') =>
  `${Math.round(value).toLocaleString('en')} ${unit}/s`;
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');

/** One row of the final table. */
interface Row {
  what: string;
  figure: string;
  ratio?: string;
}
const rows: Row[] = [];

async function createTopics(names: readonly string[]): Promise<void> {
  await ensureTopics(
    kafka,
    names.map((topic) => ({ topic, setting: 'bench', numPartitions: PARTITIONS })),
  );
}

/** Keyed by user id, as a log shipper would, so each learner's events stay in order. */
async function produceInput(topic: string, lines: readonly string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < lines.length; i += 5000) {
      await producer.send({
        topic,
        messages: lines.slice(i, i + 5000).map((value) => ({ key: userKey(value), value })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

function workerInput(firstUserId: number): string[] {
  return [
    ...syntheticTrackingLog({
      lines: EVENTS,
      users: Math.ceil(EVENTS / 20),
      seed: WORKER_SEED,
      firstUserId,
    }),
  ];
}

/**
 * A plain transactional consume→produce loop with the worker's Kafka shape (a transactional
 * producer per input partition, its default partitions at a time and batch size, one transaction
 * per batch) and no store: what the worker would reach if deciding and storing cost nothing.
 */
async function passThrough(): Promise<number> {
  const input = `${RUN}-raw-input`;
  const output = `${RUN}-raw-output`;
  const groupId = `${RUN}-raw-group`;
  await createTopics([input, output]);
  const lines = workerInput(1);
  await produceInput(input, lines);
  const producers: Producer[] = [];
  const { WORKER_PARTITION_CONCURRENCY: concurrently, WORKER_BATCH_MAX_BYTES: batchBytes } =
    new AppConfig();
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 500,
    ...batchFetchLimits(batchBytes, concurrently),
  });
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const producer = kafka.producer({
        transactionalId: `${RUN}-raw-${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      producers.push(producer);
    }
    await consumer.connect();
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    let first: number | undefined;
    let done = 0;
    let finishedAt = 0;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: concurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (batch.isEmpty()) return;
        first ??= performance.now();
        const transaction = await producers[batch.partition]!.transaction();
        try {
          await transaction.send({
            topic: output,
            messages: batch.messages.map(({ value }) => ({ value })),
          });
          await transaction.sendOffsets({
            consumerGroupId: groupId,
            topics: [
              {
                topic: batch.topic,
                partitions: [
                  { partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
                ],
              },
            ],
          });
          await transaction.commit();
        } catch (error) {
          await transaction.abort();
          throw error;
        }
        resolveOffset(batch.lastOffset());
        await heartbeat();
        done += batch.messages.length;
        if (done >= lines.length) finishedAt = performance.now();
      },
    });
    while (finishedAt === 0) {
      checkInterrupted();
      await sleep(50);
    }
    return lines.length / ((finishedAt - first!) / 1000);
  } finally {
    await consumer.disconnect();
    for (const producer of producers) await producer.disconnect();
  }
}

/** A child node process of this bench, with the end of its stderr for error messages. */
interface Child {
  process: ChildProcess;
  log: () => string;
}

function spawnChild(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  return { process: child, log: () => log };
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM, then SIGKILL if it has not exited within the grace time. */
async function stop(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Peak resident memory (kB) of a running process, from Linux's high-water mark. */
function peakRssKb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface WorkerRun {
  /** Events/s from the process's start to every offset committed. */
  withStart: number;
  /** Events/s from the first committed offset to every offset committed: no start-up. */
  steady: number;
  peakRssKb: number | undefined;
}

async function workerRun(admin: Admin, index: number): Promise<WorkerRun> {
  const id = `${RUN}-w${index}`;
  const input = `${id}-input`;
  const groupId = `${id}-group`;
  await createTopics([input, `${id}-analytics`, `${id}-dlq`]);
  const lines = workerInput(WORKER_FIRST_IDS[index]!);
  await produceInput(input, lines);
  note(`worker run ${index}: input ready, starting the worker`);
  const started = performance.now();
  const worker = spawnChild(WORKER, [], {
    INPUT_TOPICS: input,
    ANALYTICS_TOPIC: `${id}-analytics`,
    DLQ_TOPIC: `${id}-dlq`,
    WORKER_GROUP_ID: groupId,
    MONGO_DB: DB_NAME,
    WORKER_HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  try {
    let firstAt: number | undefined;
    let firstCommitted = 0;
    let last = { done: 0, at: started };
    for (;;) {
      checkInterrupted();
      if (hasExited(worker.process)) throw new Error(`worker exited early:\n${worker.log()}`);
      const done = await committed(admin, groupId, input);
      const now = performance.now();
      if (done !== last.done) last = { done, at: now };
      else if (now - last.at > STALL_MS)
        throw new Error(`worker stuck at ${done}/${lines.length} committed:\n${worker.log()}`);
      if (done > 0 && firstAt === undefined) {
        firstAt = now;
        firstCommitted = done;
      }
      if (done >= lines.length) {
        const peak = peakRssKb(worker.process.pid);
        return {
          withStart: lines.length / ((now - started) / 1000),
          // NaN when everything committed before the first poll saw any of it.
          steady: (lines.length - firstCommitted) / ((now - firstAt!) / 1000),
          peakRssKb: peak,
        };
      }
      await sleep(100);
    }
  } finally {
    await stop(worker.process);
  }
}

/**
 * Backfills learners fillFrom … fillTo-1 (counted from FILL_FIRST_ID) as a replay would: each
 * enrolls in a bench course and then opens its courseware (the page view is what triggers the
 * experiments that decide on page views only), in chunks of FILL_CHUNK lines.
 */
async function fill(db: Db, fillFrom: number, fillTo: number): Promise<number> {
  const repository = new LearnerStateRepository(db);
  await repository.ensureIndexes();
  const assigner = new BatchAssigner(repository);
  // After every bench experiment's enrollment window opened (2026-03-01T06:00Z).
  const start = Date.parse('2026-03-02T00:00:00Z');
  const learnersPerChunk = FILL_CHUNK / 2;
  const started = performance.now();
  for (let from = fillFrom; from < fillTo; from += learnersPerChunk) {
    checkInterrupted();
    const messages: InboundMessage[] = [];
    const to = Math.min(fillTo, from + learnersPerChunk);
    for (let n = from; n < to; n++) {
      const userId = FILL_FIRST_ID + n;
      const course = courseOf(userId);
      const at = start + n * 1000;
      const lines = [
        enrollmentLine(userId, course, logStamp(at, 0)),
        coursewareViewLine(userId, course, logStamp(at + 500, 0)),
      ];
      for (const [i, value] of lines.entries())
        messages.push({ value, position: { source: `fill/${fillTo}`, offset: 2 * n + i } });
    }
    const chunkStarted = performance.now();
    // Resolves once the states and their lookup copies are written.
    const result = await assigner.process(messages, experiments);
    note(
      `fill ${to}/${fillTo}: ${messages.length} lines in ${seconds(chunkStarted).toFixed(1)} s, ${result.analytics.length} assignments`,
    );
  }
  return seconds(started);
}

const courseOf = (userId: number): string => BENCH_COURSES[userId % BENCH_COURSES.length]!;

async function counts(db: Db): Promise<string> {
  const started = performance.now();
  const [states, assignments] = await Promise.all([
    countByCursor(db, 'learner_states'),
    countByCursor(db, 'assignments'),
  ]);
  return `learner_states ${states.toLocaleString('en')}, assignments ${assignments.toLocaleString('en')} (counted in ${seconds(started).toFixed(1)} s)`;
}

/**
 * Documents counted through a cursor of ids: FerretDB runs `countDocuments` as an aggregation
 * it holds in memory whole (about 20 GB at 4.5M documents), a cursor a batch at a time.
 */
async function countByCursor(db: Db, name: string): Promise<number> {
  let count = 0;
  const cursor = db.collection(name).find({}, { projection: { _id: 1 }, batchSize: 10_000 });
  while (await cursor.next()) count += 1;
  return count;
}

async function saveExperiments(db: Db): Promise<void> {
  for (const experiment of experiments)
    await new ExperimentRepository(db).save(experiment, { actor: 'bench' });
}

/** Runs the CLI to its end; the time includes the process's start, as an operator sees it. */
async function cli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const run = spawnChild(CLI, args, env);
  const [code] = (await once(run.process, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}:\n${run.log()}`);
  return seconds(started);
}

async function replay(file: string, dbName: string): Promise<number> {
  return cli(
    [
      'replay',
      '--events',
      file,
      '--no-publish',
      '--checkpoint',
      join(workDir, `${dbName}-checkpoint.json`),
    ],
    { MONGO_DB: dbName, ANALYTICS_TOPIC: `${RUN}-replay-analytics` },
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;

/** The admin API on the full store, once healthy. */
async function startAdminApi(): Promise<{ api: Child; base: string }> {
  const port = await freePort();
  const api = spawnChild(ADMIN_API, [], {
    ADMIN_API_TOKENS: `bench:reader:${ADMIN_SECRET}`,
    ADMIN_API_HOST: '127.0.0.1',
    ADMIN_API_PORT: String(port),
    MONGO_DB: DB_NAME,
    LOG_LEVEL: 'warn',
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 60_000;
  for (;;) {
    checkInterrupted();
    if (hasExited(api.process)) throw new Error(`admin API exited:\n${api.log()}`);
    const health = await fetch(`${base}/health`).catch(() => undefined);
    if (health?.status === 200) return { api, base };
    if (performance.now() > deadline) {
      await stop(api.process);
      throw new Error(`admin API not healthy:\n${api.log()}`);
    }
    await sleep(200);
  }
}

async function adminApi(): Promise<void> {
  const { api, base } = await startAdminApi();
  const headers = { authorization: `Bearer ${ADMIN_SECRET}` };
  try {
    note('admin API up');
    // Learners spread over the whole fill, so no request hits only recent or only old ones.
    const learners = Array.from({ length: ADMIN_REQUESTS }, (_, i) => {
      const userId = FILL_FIRST_ID + Math.floor(((i + 0.5) * FILL2) / ADMIN_REQUESTS);
      return { userId, course: courseOf(userId), username: `learner${userId}` };
    });
    const routes: { label: string; path: (l: (typeof learners)[number]) => string }[] = [
      {
        label: 'explain',
        path: (l) =>
          `/experiments/${EXPERIMENT}/explain?user_id=${l.userId}&course_id=${encodeURIComponent(l.course)}`,
      },
      { label: 'assignments?user_id', path: (l) => `/assignments?user_id=${l.userId}` },
      {
        label: 'assignments?username',
        path: (l) => `/assignments?username=${encodeURIComponent(l.username)}`,
      },
    ];
    for (const { label, path } of routes) {
      const times: number[] = [];
      let failed = 0;
      let empty = 0;
      for (const learner of learners) {
        checkInterrupted();
        const started = performance.now();
        const response = await fetch(`${base}${path(learner)}`, {
          headers,
          signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
        });
        const body = (await response.json()) as { assignments?: unknown[]; stored?: unknown };
        times.push(performance.now() - started);
        if (response.status !== 200) failed += 1;
        // A stored learner must be found: an empty answer would time a miss, not a lookup.
        else if ((body.assignments ?? (body.stored ? [body.stored] : [])).length === 0) empty += 1;
      }
      times.sort((a, b) => a - b);
      const figure = `p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms`;
      const problems = [failed && `${failed} not 200`, empty && `${empty} found nothing`]
        .filter(Boolean)
        .join(', ');
      say(
        `admin API at ${FILL2} learners, GET ${label} (${times.length} requests): ${figure}${problems ? ` (${problems})` : ''}`,
      );
      rows.push({ what: `admin ${label} @${FILL2}`, figure, ratio: problems || undefined });
    }
    // The first count reads every copy; until it is done the route answers 503, then the count
    // answers for ten times its duration (see `countIsCurrent`).
    const counting = performance.now();
    let waits = 0;
    for (;;) {
      checkInterrupted();
      const response = await fetch(`${base}/experiments/${EXPERIMENT}/stats`, { headers });
      const body = (await response.json()) as { recounting?: boolean; total?: number };
      if (response.status === 200 && body.recounting === false) {
        const figure = `${seconds(counting).toFixed(1)} s (${body.total} assignments)`;
        say(`admin API at ${FILL2} learners, first count for the stats: ${figure}`);
        rows.push({ what: `admin stats first count @${FILL2}`, figure });
        break;
      }
      if (response.status !== 200 && response.status !== 503)
        throw new Error(`stats answered ${response.status}: ${JSON.stringify(body)}`);
      if (seconds(counting) > STATS_FIRST_COUNT_LIMIT_S)
        throw new Error(`the first count took over ${STATS_FIRST_COUNT_LIMIT_S} s`);
      waits += 1;
      await sleep(waits < 10 ? 500 : 2_000);
    }
    // The dashboard's daily series come from the same count as the stats.
    for (const route of ['stats', 'stats/daily']) {
      const times: number[] = [];
      for (let i = 0; i < ADMIN_REQUESTS; i++) {
        checkInterrupted();
        const started = performance.now();
        const response = await fetch(`${base}/experiments/${EXPERIMENT}/${route}`, { headers });
        await response.text();
        if (response.status !== 200) throw new Error(`${route} answered ${response.status}`);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const figure = `p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms`;
      say(`admin API at ${FILL2} learners, GET ${route} (${times.length} requests): ${figure}`);
      rows.push({ what: `admin ${route} @${FILL2}`, figure });
    }
  } finally {
    await stop(api.process);
  }
}

let cleaned: Promise<void> | undefined;
/** Stops what it started, deletes its topics and groups and drops its databases; runs once. */
function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    for (const child of [...children]) await stop(child, 10_000).catch(() => undefined);
    const admin = kafka.admin();
    try {
      await admin.connect();
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(RUN));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      const { groups } = await admin.listGroups();
      const mine = groups.map(({ groupId }) => groupId).filter((id) => id.startsWith(RUN));
      // A group that never committed is already gone: not a failure.
      if (mine.length > 0)
        await admin.deleteGroups(mine).catch((error: unknown) => {
          const failed = error instanceof KafkaJSDeleteGroupsError ? error.groups : [];
          if (
            failed.length === 0 ||
            failed.some(({ errorCode }) => errorCode !== GROUP_ID_NOT_FOUND)
          )
            throw error;
        });
    } catch (error) {
      process.stderr.write(`cleanup of Kafka failed: ${String(error)}\n`);
    } finally {
      await admin.disconnect();
    }
    try {
      for (const name of [DB_NAME, EMPTY_DB_NAME]) await mongo.db(name).dropDatabase();
    } catch (error) {
      process.stderr.write(`dropping the databases failed: ${String(error)}\n`);
    }
    await mongo.close().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaned;
}

async function main(): Promise<void> {
  say(
    `store growth bench ${RUN}: fills ${FILL1} / ${FILL2}, ${EVENTS} worker events, ${REPLAY_LINES} replay lines`,
  );
  await mongo.connect();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const raw = await passThrough();
    say(`raw pass-through (transactional consume→produce, no store): ${perSecond(raw)}`);
    rows.push({ what: 'raw pass-through', figure: perSecond(raw) });

    const db = mongo.db(DB_NAME);
    await saveExperiments(db);
    const sizes = [0, FILL1, FILL2];
    const runs: WorkerRun[] = [];
    for (const [index, size] of sizes.entries()) {
      checkInterrupted();
      if (index > 0) {
        const s = await fill(db, sizes[index - 1]!, size);
        const figure = `${s.toFixed(1)} s (${perSecond((size - sizes[index - 1]!) / s, 'learners')})`;
        say(`fill to ${size} learners: ${figure}; ${await counts(db)}`);
        rows.push({ what: `fill to ${size}`, figure });
      }
      const run = await workerRun(admin, index);
      runs.push(run);
      const empty = runs[0]!;
      const rss = run.peakRssKb === undefined ? 'n/a' : `${Math.round(run.peakRssKb / 1024)} MB`;
      const vsEmpty = (value: number, of: number) =>
        index === 0 ? '' : ` (${ratio(value / of)} of empty)`;
      // The stored learners are the fill's, plus the earlier runs' new ones (events/20 each).
      say(
        `worker, ${size} learners stored: ${perSecond(run.withStart)} with start${vsEmpty(run.withStart, empty.withStart)}, ` +
          `${perSecond(run.steady)} from first commit${vsEmpty(run.steady, empty.steady)}, peak RSS ${rss}`,
      );
      if (index === 0)
        say(
          `worker (empty store) / raw pass-through: ${ratio(run.withStart / raw)} with start, ${ratio(run.steady / raw)} from first commit`,
        );
      rows.push(
        {
          what: `worker @${size}, with start`,
          figure: perSecond(run.withStart),
          ratio:
            index === 0
              ? `${ratio(run.withStart / raw)} of raw`
              : `${ratio(run.withStart / empty.withStart)} of @0`,
        },
        {
          what: `worker @${size}, from 1st commit`,
          figure: perSecond(run.steady),
          ratio:
            index === 0
              ? `${ratio(run.steady / raw)} of raw`
              : `${ratio(run.steady / empty.steady)} of @0`,
        },
        { what: `worker @${size}, peak RSS`, figure: rss },
      );
    }

    // The same file into both stores: only the store's size differs.
    const file = join(workDir, 'replay.log');
    const log = syntheticTrackingLog({
      lines: REPLAY_LINES,
      users: Math.ceil(REPLAY_LINES / 10),
      firstUserId: REPLAY_FIRST_ID,
    });
    writeFileSync(file, `${[...log].join('\n')}\n`);
    const emptyDb = mongo.db(EMPTY_DB_NAME);
    await saveExperiments(emptyDb);
    checkInterrupted();
    note('replaying into an empty store');
    const intoEmpty = await replay(file, EMPTY_DB_NAME);
    say(`replay --no-publish, ${REPLAY_LINES} lines, empty store: ${intoEmpty.toFixed(2)} s`);
    note(`replaying into the store of ${FILL2} learners`);
    const intoFull = await replay(file, DB_NAME);
    say(
      `replay --no-publish, ${REPLAY_LINES} lines, ${FILL2} learners stored: ${intoFull.toFixed(2)} s; rate ratio (full / empty) ${ratio(intoEmpty / intoFull)}`,
    );
    rows.push(
      { what: 'replay, empty store', figure: `${intoEmpty.toFixed(2)} s` },
      {
        what: `replay @${FILL2}`,
        figure: `${intoFull.toFixed(2)} s`,
        ratio: `${ratio(intoEmpty / intoFull)} of empty`,
      },
    );

    checkInterrupted();
    await adminApi();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const width = Math.max(...rows.map(({ what }) => what.length));
  const figureWidth = Math.max(...rows.map(({ figure }) => figure.length));
  say('\nsummary');
  for (const { what, figure, ratio: r } of rows)
    say(`  ${what.padEnd(width)}  ${figure.padEnd(figureWidth)}  ${r ?? ''}`.trimEnd());
}

// Cleaning up while a step still writes would let it re-create what was dropped: a signal stops
// the children and lets the step in hand end, and main's finally cleans up. A second one forces.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (interrupted) return void cleanup().finally(() => process.exit(130));
    interrupted = true;
    process.stderr.write(`${signal}: stopping after the step in hand, then cleaning up\n`);
    for (const child of children) child.kill('SIGTERM');
  });

main()
  .catch((error: unknown) => {
    if (interrupted) return void (process.exitCode = 130);
    process.stderr.write(
      `store growth bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => cleanup());
