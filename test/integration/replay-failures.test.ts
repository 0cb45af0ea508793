import { analyticsMessageOf, type AnalyticsMessage } from '@assigner/contracts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../bench/synthetic-log';
import { replaySummaryOf, startAssigner, type AsyncRun } from '../support/cli';
import { waitFor } from '../support/real-services';
import { experimentsOf, simulateLines, WorkerSystem } from '../support/worker-harness';

jest.setTimeout(600_000);

const LINES = [...syntheticTrackingLog({ lines: 20_000, users: 2_000, seed: 23 })];
const EXPERIMENTS = experimentsOf(BENCH_EXPERIMENTS);
const CHUNK = ['--chunk', '4000'];

/** Each message's id, and how many times it was read: every count must be 1. */
function countsById(messages: readonly AnalyticsMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { messageId } of messages) counts.set(messageId, (counts.get(messageId) ?? 0) + 1);
  return counts;
}

describe('replay failures: every stored bucket change has exactly one committed message', () => {
  let dir: string;
  let file: string;
  let reference: Awaited<ReturnType<typeof simulateLines>>;
  let system: WorkerSystem;

  const env = () => ({
    ...process.env,
    MONGO_DB: system.database,
    ANALYTICS_TOPIC: system.analyticsTopic,
    DLQ_TOPIC: system.dlqTopic,
    TOPIC_PARTITIONS: '3',
  });
  const startReplay = (extra: string[] = [], checkpoint = 'replay.json') =>
    startAssigner(
      [
        'replay',
        '--events',
        file,
        '--checkpoint',
        join(dir, `${system.id}-${checkpoint}`),
        ...CHUNK,
        ...extra,
      ],
      env(),
    );
  const openChunks = () =>
    system.mongo.db(system.database).collection('open_chunks').countDocuments();

  /** Resolves once the replay has a chunk open, that is, one about to be stored or being stored. */
  const chunkOpened = () =>
    waitFor('an open chunk', async () => (await openChunks()) > 0, 120_000, 20);

  /** The messages of every change the store holds, as the analytics topic must hold them. */
  const storedChangeIds = async () =>
    new Set(
      (await system.storedAssignments()).flatMap((assignment) =>
        assignment.history.map((change) => analyticsMessageOf(assignment, change).messageId),
      ),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'replay-failures-'));
    file = join(dir, 'history.log');
    writeFileSync(file, `${LINES.join('\n')}\n`);
    reference = await simulateLines(LINES, EXPERIMENTS);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    system = new WorkerSystem(3);
    await system.setUp(BENCH_EXPERIMENTS);
    // A fresh deployment: the experiments are applied, no topic exists yet.
    const admin = system.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [system.analyticsTopic, system.dlqTopic] });
    await admin.disconnect();
  });
  afterEach(async () => {
    await system.tearDown();
  });

  it('the dead-letter topic gone mid-replay: the replay fails with one clear line; a rerun without --dead-letters publishes everything once', async () => {
    const first = startReplay(['--dead-letters']);
    await chunkOpened();
    const admin = system.kafka.admin();
    await admin.connect();
    await waitFor(
      'the dead-letter topic',
      async () => (await admin.listTopics()).includes(system.dlqTopic),
      60_000,
    );
    await admin.deleteTopics({ topics: [system.dlqTopic] });
    await admin.disconnect();
    const failed: AsyncRun = await first.done;
    expect(failed.status).toBe(1);
    const errorLines = failed.stderr.split('\n').filter((line) => line.startsWith('assigner: '));
    expect(errorLines).toHaveLength(1);
    expect(failed.stderr).not.toMatch(/^\s+at /m);
    expect(await storedChangeIds()).not.toEqual(new Set());

    const rerun = replaySummaryOf(await startReplay([], 'other.json').done);
    expect(rerun).toMatchObject({ finished: true });
    expect(
      (rerun as unknown as { recovered: { chunks: number } }).recovered.chunks,
    ).toBeGreaterThan(0);

    const published = countsById(await system.analytics(reference.analytics.length));
    expect([...published.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(published.keys())).toEqual(new Set(reference.analytics.map((m) => m.messageId)));
    // The first run's dead letters, each once: those of its committed chunks and of the one taken over.
    const deadLetters = await system.readAll(system.dlqTopic);
    const lines = deadLetters.map(({ headers }) => Number(headers['dlq-source-line']));
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.length).toBeGreaterThan(0);
    expect(await openChunks()).toBe(0);
  });

  it('killed mid-chunk, then the same command: each message once', async () => {
    const first = startReplay(['--dead-letters']);
    await chunkOpened();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 800));
    first.child.kill('SIGKILL');
    await first.done;

    const resumed = replaySummaryOf(await startReplay(['--dead-letters']).done);
    expect(resumed).toMatchObject({ finished: true, resumed: true });
    const published = countsById(await system.analytics(reference.analytics.length));
    expect([...published.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(published.keys())).toEqual(new Set(reference.analytics.map((m) => m.messageId)));
    const deadLetters = await system.readAll(system.dlqTopic, reference.invalid);
    const lines = deadLetters.map(({ headers }) => Number(headers['dlq-source-line']));
    expect(new Set(lines).size).toBe(reference.invalid);
    expect(lines).toHaveLength(reference.invalid);
    expect(await openChunks()).toBe(0);
  });

  it('killed mid-chunk, then nothing but time: the worker publishes what was stored, once', async () => {
    const first = startReplay();
    await chunkOpened();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 800));
    first.child.kill('SIGKILL');
    await first.done;

    await system.startWorker();
    await waitFor('the open chunk taken over', async () => (await openChunks()) === 0, 120_000);
    const stored = await storedChangeIds();
    const published = countsById(await system.analytics(stored.size));
    expect([...published.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(published.keys())).toEqual(stored);
  });
});
