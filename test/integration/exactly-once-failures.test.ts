import { analyticsMessageOf, type AnalyticsMessage } from '@assigner/contracts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../workloads/synthetic-log';
import { replaySummaryOf, startAssigner, type AsyncRun } from '../support/cli';
import { waitFor } from '../support/real-services';
import { StoreFaultProxy, type StoreFault } from '../support/store-fault-proxy';
import { experimentsOf, simulateLines, WorkerSystem } from '../support/worker-harness';

jest.setTimeout(600_000);

const LINES = [...syntheticTrackingLog({ lines: 20_000, users: 2_000, seed: 23 })];
const EXPERIMENTS = experimentsOf(BENCH_EXPERIMENTS);
const CHUNK = ['--chunk', '4000'];

/** The time of the first line from this index on that has one. */
function timeOfLine(from: number): string {
  for (const line of LINES.slice(from)) {
    try {
      const { time } = JSON.parse(line) as { time?: unknown };
      if (typeof time === 'string') return time;
    } catch {
      // an invalid line: try the next
    }
  }
  throw new Error(`no line from ${from} on has a time`);
}

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

  let proxy: StoreFaultProxy;
  const env = (store = process.env.MONGO_URL) => ({
    ...process.env,
    MONGO_URL: store,
    MONGO_DB: system.database,
    ANALYTICS_TOPIC: system.analyticsTopic,
    DLQ_TOPIC: system.dlqTopic,
    TOPIC_PARTITIONS: '3',
  });
  const startReplay = (extra: string[] = [], checkpoint = 'replay.json', store?: string) =>
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
      env(store),
    );
  /** Chunks not seen to commit; those taken over are committed, and only watched. */
  const openChunks = () =>
    system.mongo
      .db(system.database)
      .collection('open_chunks')
      .countDocuments({ takenOver: { $exists: false } });

  /** Resolves once the replay has a chunk open, that is, one about to be stored or being stored. */
  const chunkOpened = () =>
    waitFor('an open chunk', async () => (await openChunks()) > 0, 120_000, 20);

  /** Starts a replay and kills it (-9) at a random point of its first chunk. */
  const killedMidChunk = async (extra: string[] = []) => {
    const run = startReplay(extra);
    await chunkOpened();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 800));
    run.child.kill('SIGKILL');
    await run.done;
  };
  /** Starts a replay through the store proxy and kills it (-9) once the fault has struck. */
  const replayKilledAt = async (fault: StoreFault, extra: string[] = []) => {
    const struckNow = struck(fault);
    const run = startReplay(extra, 'replay.json', proxy.url);
    await struckNow;
    run.child.kill('SIGKILL');
    await run.done;
  };
  /** The messages of every change the store holds, as the analytics topic must hold them. */
  const storedChangeIds = async () =>
    new Set(
      (await system.storedAssignments()).flatMap((assignment) =>
        assignment.history.map((change) => analyticsMessageOf(assignment, change).messageId),
      ),
    );

  /** The steps of a chunk or a batch, as the store sees them (see StoreFault). */
  const STEPS: { step: string; fault: StoreFault }[] = [
    {
      step: 'before the store write',
      fault: { command: 'insert', collection: 'learner_states', when: 'before' },
    },
    {
      step: 'after the store write, before the first send',
      fault: { command: 'insert', collection: 'learner_states', when: 'after' },
    },
    {
      step: 'while the sends go out, before the commit',
      fault: { command: 'insert', collection: 'assignments', when: 'after' },
    },
  ];
  /** Arms the fault; resolves once it has struck. */
  const struck = async (fault: StoreFault) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the fault never struck')), 120_000);
    });
    try {
      await Promise.race([proxy.arm(fault), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  /** How many stored changes have no committed message: the failure's leftovers. */
  const storedUnpublished = async () => {
    const published = new Set((await system.analytics()).map(({ messageId }) => messageId));
    return [...(await storedChangeIds())].filter((id) => !published.has(id)).length;
  };
  const expectEachDeadLetterOnce = async () => {
    const lines = (await system.readAll(system.dlqTopic, reference.invalid)).map(({ headers }) =>
      Number(headers['dlq-source-line']),
    );
    expect(new Set(lines).size).toBe(reference.invalid);
    expect(lines).toHaveLength(reference.invalid);
  };
  const expectReferenceOnce = async () => {
    const published = countsById(await system.analytics(reference.analytics.length));
    expect([...published.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(published.keys())).toEqual(new Set(reference.analytics.map((m) => m.messageId)));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'replay-failures-'));
    file = join(dir, 'history.log');
    writeFileSync(file, `${LINES.join('\n')}\n`);
    reference = await simulateLines(LINES, EXPERIMENTS);
    proxy = await StoreFaultProxy.start(process.env.MONGO_URL!);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await proxy.close();
  });
  beforeEach(async () => {
    system = new WorkerSystem(3);
    await system.setUp(BENCH_EXPERIMENTS);
    // A fresh deployment: the experiments are applied, no topic exists yet.
    const admin = system.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [system.analyticsTopic, system.dlqTopic] });
    // Deleting takes a moment to reach the broker's metadata: a replay must find them missing.
    await waitFor(
      'the topics deleted',
      async () => {
        const topics = await admin.listTopics();
        return !topics.includes(system.analyticsTopic) && !topics.includes(system.dlqTopic);
      },
      60_000,
    );
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
    expect(rerun.recovered.chunks).toBeGreaterThan(0);

    await expectReferenceOnce();
    // The first run's dead letters, each once: those of its committed chunks and of the one taken over.
    const deadLetters = await system.readAll(system.dlqTopic);
    const lines = deadLetters.map(({ headers }) => Number(headers['dlq-source-line']));
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.length).toBeGreaterThan(0);
    expect(await openChunks()).toBe(0);
  });

  it('killed mid-chunk three times at random points, then the same command: each message once', async () => {
    for (let kill = 0; kill < 3; kill++) {
      const run = startReplay(['--dead-letters']);
      await chunkOpened();
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 1500));
      run.child.kill('SIGKILL');
      await run.done;
    }

    const resumed = replaySummaryOf(await startReplay(['--dead-letters']).done);
    expect(resumed).toMatchObject({ finished: true, resumed: true });
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
    expect(await openChunks()).toBe(0);
  });

  it('killed before its chunk was stored, the chunk taken over by another replay, then the same command: each message and dead letter once', async () => {
    // Nothing of the chunk stored: the takeover publishes nothing, and the resumed run must apply it all.
    await replayKilledAt({ command: 'insert', collection: 'learner_states', when: 'before' }, [
      '--dead-letters',
    ]);
    // Quiet for longer than OPEN_CHUNK_STALE_AFTER_MS: another replay takes the chunk over.
    await new Promise((resolve) => setTimeout(resolve, 21_000));
    replaySummaryOf(
      await startReplay(['--experiment', 'experiments.site_wide'], 'other.json').done,
    );

    const resumed = replaySummaryOf(await startReplay(['--dead-letters']).done);
    expect(resumed).toMatchObject({ finished: true, resumed: true });
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
  });

  it('killed mid-chunk, then nothing but time: the worker publishes what was stored, once', async () => {
    await killedMidChunk();

    await system.startWorker();
    await waitFor('the open chunk taken over', async () => (await openChunks()) === 0, 120_000);
    const stored = await storedChangeIds();
    const published = countsById(await system.analytics(stored.size));
    expect([...published.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(published.keys())).toEqual(stored);
  });

  it('killed mid-chunk, then a worker consuming the same history: each message once', async () => {
    await killedMidChunk();

    await system.produce(LINES, true);
    await system.startWorker();
    await waitFor('the history consumed', () => system.consumedEverything(), 300_000);
    await waitFor('the open chunk taken over', async () => (await openChunks()) === 0, 120_000);
    await expectReferenceOnce();
  });

  it('the broker stopped mid-chunk: the replay fails with one line; another replay, of part of the history, publishes what was stored, once', async () => {
    const first = startReplay();
    await chunkOpened();
    WorkerSystem.stopService('kafka');
    let failed: AsyncRun;
    try {
      failed = await first.done;
    } finally {
      WorkerSystem.startServices();
    }
    expect(failed.status).toBe(1);
    expect(failed.stderr.split('\n').filter((line) => line.startsWith('assigner: '))).toHaveLength(
      1,
    );

    const middle = timeOfLine(LINES.length / 2);
    replaySummaryOf(await startReplay(['--to-time', middle], 'first-half.json').done);
    expect(await openChunks()).toBe(0);
    const stored = await storedChangeIds();
    const published = countsById(await system.analytics(stored.size));
    expect([...published.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(published.keys())).toEqual(stored);
  });

  it('a worker killed mid-batch, then a replay of the same history, then the worker again: each message once', async () => {
    await system.produce(LINES, true);
    const worker = await system.startWorker();
    await waitFor(
      'a first assignment stored',
      async () => (await storedChangeIds()).size > 0,
      120_000,
      50,
    );
    await system.stopWorker(worker, 'SIGKILL');

    replaySummaryOf(await startReplay().done);
    await system.startWorker('again');
    await waitFor('the history consumed', () => system.consumedEverything(), 300_000);
    await expectReferenceOnce();
  });

  it('the dead-letter topic deleted while the worker runs: created again; each message once, each later dead letter once', async () => {
    const half = LINES.length / 2;
    const later = LINES.slice(half);
    const laterDeadLetters = (await simulateLines(later, EXPERIMENTS)).invalid;
    expect(laterDeadLetters).toBeGreaterThan(0);
    await system.produce(LINES.slice(0, half), true);
    await system.startWorker();
    await waitFor('the first half consumed', () => system.consumedEverything(), 300_000);

    const admin = system.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [system.dlqTopic] });
      await waitFor(
        'the dead-letter topic deleted',
        async () => !(await admin.listTopics()).includes(system.dlqTopic),
        60_000,
      );
    } finally {
      await admin.disconnect();
    }
    await system.produce(later, true);
    await waitFor('the history consumed', () => system.consumedEverything(), 300_000);

    await expectReferenceOnce();
    const deadLetters = await system.readAll(system.dlqTopic, laterDeadLetters);
    const sources = deadLetters.map(
      ({ headers }) => `${headers['dlq-source-partition']}/${headers['dlq-source-offset']}`,
    );
    expect(new Set(sources).size).toBe(laterDeadLetters);
    expect(sources).toHaveLength(laterDeadLetters);
  });

  it('a replay paused as it stores its chunk is taken over and fenced; what it stores once it goes on is published by the same command, once', async () => {
    const struckNow = struck({ command: 'insert', collection: 'learner_states', when: 'held' });
    const zombie = startReplay([], 'replay.json', proxy.url);
    await struckNow;
    zombie.child.kill('SIGSTOP');
    try {
      // Quiet for longer than OPEN_CHUNK_STALE_AFTER_MS: the next replay takes its chunk over.
      await new Promise((resolve) => setTimeout(resolve, 22_000));
      const other = replaySummaryOf(
        await startReplay(['--experiment', 'experiments.site_wide'], 'other.json').done,
      );
      expect(other.recovered).toMatchObject({ chunks: 1 });
    } finally {
      zombie.child.kill('SIGCONT');
      proxy.release();
    }
    // Its store write goes through after the takeover; its transaction is fenced.
    expect((await zombie.done).status).toBe(1);
    expect(await storedUnpublished()).toBeGreaterThan(0);

    replaySummaryOf(await startReplay().done);
    await expectReferenceOnce();
  });

  it('the store restarted mid-chunk: whether the replay waits it out or fails, the same command then gives each message once', async () => {
    const first = startReplay(['--dead-letters']);
    await chunkOpened();
    WorkerSystem.restartService('ferretdb');
    const outcome = await first.done;
    expect([0, 1]).toContain(outcome.status);

    replaySummaryOf(await startReplay(['--dead-letters']).done);
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
  });

  it(`a replay killed ${STEPS[0]!.step}, then another replay of half the history: what is stored, once`, async () => {
    await replayKilledAt(STEPS[0]!.fault);
    replaySummaryOf(
      await startReplay(['--to-time', timeOfLine(LINES.length / 2)], 'half.json').done,
    );
    const stored = await storedChangeIds();
    const published = countsById(await system.analytics(stored.size));
    expect([...published.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(published.keys())).toEqual(stored);
  });

  it(`a replay killed ${STEPS[1]!.step}, then a worker consuming the same history: each message once`, async () => {
    await replayKilledAt(STEPS[1]!.fault);
    expect(await storedUnpublished()).toBeGreaterThan(0);
    await system.produce(LINES, true);
    await system.startWorker();
    await waitFor('the history consumed', () => system.consumedEverything(), 300_000);
    await waitFor('the open chunk taken over', async () => (await openChunks()) === 0, 120_000);
    await expectReferenceOnce();
  });

  it(`a replay killed ${STEPS[2]!.step}, then the same command: each message and dead letter once`, async () => {
    await replayKilledAt(STEPS[2]!.fault, ['--dead-letters']);
    expect(await storedUnpublished()).toBeGreaterThan(0);
    replaySummaryOf(await startReplay(['--dead-letters']).done);
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
  });

  it("a replay killed after its commit, before it closed the chunk's record, then the same command: each message and dead letter once", async () => {
    await replayKilledAt({ command: 'delete', collection: 'open_chunks', when: 'before' }, [
      '--dead-letters',
    ]);
    // Committed with its progress, but the record says the chunk is open and the checkpoint is behind.
    expect(await openChunks()).toBe(1);
    expect(await storedUnpublished()).toBe(0);
    replaySummaryOf(await startReplay(['--dead-letters']).done);
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
    expect(await openChunks()).toBe(0);
  });

  it.each(STEPS)(
    'a worker killed $step, then a replay of the same history and the worker again: each message once',
    async ({ fault }) => {
      await system.produce(LINES, true);
      const struckNow = struck(fault);
      const worker = await system.startWorker('faulty', { MONGO_URL: proxy.url });
      await struckNow;
      await system.stopWorker(worker, 'SIGKILL');
      if (fault.when === 'after') expect(await storedUnpublished()).toBeGreaterThan(0);
      replaySummaryOf(await startReplay().done);
      await system.startWorker('again');
      await waitFor('the history consumed', () => system.consumedEverything(), 300_000);
      await expectReferenceOnce();
    },
  );
});
