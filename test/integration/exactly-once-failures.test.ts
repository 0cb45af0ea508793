import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../workloads/synthetic-log';
import { replaySummaryOf } from '../support/cli';
import {
  HistoryDeployment,
  NO_MISMATCH,
  QUIET_LONG_ENOUGH_MS,
  sleep,
  STEPS,
  removeHistory,
  writeHistory,
  type History,
} from '../support/history-deployment';
import { waitFor } from '../support/real-services';
import { experimentsOf, simulateLines, WorkerSystem } from '../support/worker-harness';

// Failures a store proxy alone does not make (random kills, a paused replay, topics deleted,
// services stopped) and two-step continuations; every step of a chunk and of a batch, each
// followed by every continuation, is in exactly-once-matrix.test.ts.
jest.setTimeout(600_000);

const LINES = [...syntheticTrackingLog({ lines: 20_000, users: 2_000, seed: 23 })];
const NOTHING_TWICE = { twice: 0, missing: 0 };

describe('replay failures: every stored bucket change has exactly one committed message', () => {
  let history: History;
  let deployment: HistoryDeployment;
  let system: WorkerSystem;

  /** Starts a replay and kills it (-9) at a random point of its first chunk. */
  const killedMidChunk = async (extra: string[] = []) => {
    const run = deployment.startReplay(extra);
    await deployment.chunkOpened();
    await sleep(Math.random() * 800);
    run.child.kill('SIGKILL');
    await run.done;
  };
  const expectReferenceOnce = async () =>
    expect(await deployment.referenceMismatch()).toEqual(NO_MISMATCH);
  const expectStoredOnce = async () =>
    expect(await deployment.storedMismatch()).toEqual(NO_MISMATCH);
  const expectEachDeadLetterOnce = async () =>
    expect(await deployment.deadLetterMismatch(true)).toEqual(NOTHING_TWICE);

  beforeAll(async () => {
    history = await writeHistory(LINES, BENCH_EXPERIMENTS, 'replay-failures-');
  });
  afterAll(() => removeHistory(history));
  beforeEach(async () => {
    deployment = await HistoryDeployment.create(history, BENCH_EXPERIMENTS);
    system = deployment.system;
  });
  afterEach(async () => {
    await deployment.tearDown();
  });

  it('killed mid-chunk three times at random points, then the same command: each message once', async () => {
    for (let kill = 0; kill < 3; kill++) {
      const run = deployment.startReplay(['--dead-letters']);
      await deployment.chunkOpened();
      await sleep(Math.random() * 1500);
      run.child.kill('SIGKILL');
      await run.done;
    }

    const resumed = await deployment.replay(['--dead-letters']);
    expect(resumed).toMatchObject({ finished: true, resumed: true });
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
    expect(await deployment.openChunks()).toBe(0);
  });

  it('killed before its chunk was stored, the chunk taken over by another replay, then the same command: each message and dead letter once', async () => {
    // Nothing of the chunk stored: the takeover publishes nothing, and the resumed run must apply it all.
    await deployment.replayKilledAt(STEPS.beforeStore.fault, ['--dead-letters']);
    await sleep(QUIET_LONG_ENOUGH_MS);
    await deployment.replay(['--experiment', 'experiments.site_wide'], 'other.json');

    const resumed = await deployment.replay(['--dead-letters']);
    expect(resumed).toMatchObject({ finished: true, resumed: true });
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
  });

  it('a topic replay killed before its chunk was stored, the chunk taken over by another replay, then the same command: each message once', async () => {
    await deployment.produceHistory();
    const struckNow = deployment.struck(STEPS.beforeStore.fault);
    const killed = deployment.startTopicReplay(true);
    await struckNow;
    killed.child.kill('SIGKILL');
    await killed.done;
    // Another replay takes the chunk over and commits its progress, with nothing stored to publish.
    await sleep(QUIET_LONG_ENOUGH_MS);
    const other = await deployment.replay(['--experiment', 'experiments.site_wide'], 'other.json');
    expect(other.recovered).toMatchObject({ chunks: 1, messages: 0 });

    const resumed = replaySummaryOf(await deployment.startTopicReplay().done);
    expect(resumed).toMatchObject({ finished: true, resumed: true });
    await expectReferenceOnce();
  });

  it('killed mid-chunk, then nothing but time: the worker publishes what was stored, once', async () => {
    await killedMidChunk();

    await system.startWorker();
    await waitFor(
      'the open chunk taken over',
      async () => (await deployment.openChunks()) === 0,
      120_000,
    );
    await expectStoredOnce();
  });

  it('killed mid-chunk, then a worker consuming the same history: each message once', async () => {
    await killedMidChunk();

    await deployment.produceHistory();
    await system.startWorker();
    await waitFor('the history consumed', () => system.consumedEverything(), 300_000);
    await waitFor(
      'the open chunk taken over',
      async () => (await deployment.openChunks()) === 0,
      120_000,
    );
    await expectReferenceOnce();
  });

  it('a worker killed mid-batch, then a replay of the same history, then the worker again: each message once', async () => {
    await deployment.produceHistory();
    const worker = await system.startWorker();
    await waitFor(
      'a first assignment stored',
      async () => (await deployment.storedChangeIds()).size > 0,
      120_000,
      50,
    );
    await system.stopWorker(worker, 'SIGKILL');

    await deployment.replay();
    await system.startWorker('again');
    await waitFor('the history consumed', () => system.consumedEverything(), 300_000);
    await expectReferenceOnce();
  });

  it('the dead-letter topic deleted while the worker runs: created again; each message once, each later dead letter once', async () => {
    const half = LINES.length / 2;
    const later = LINES.slice(half);
    const laterDeadLetters = (await simulateLines(later, experimentsOf(BENCH_EXPERIMENTS))).invalid;
    expect(laterDeadLetters).toBeGreaterThan(0);
    await system.produce(LINES.slice(0, half), true);
    await system.startWorker();
    await waitFor('the first half consumed', () => system.consumedEverything(), 300_000);

    await deployment.deleteTopic(system.dlqTopic);
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
    const struckNow = deployment.struck({
      command: 'insert',
      collection: 'learner_states',
      when: 'held',
    });
    const zombie = deployment.startReplay([], 'replay.json', true);
    await struckNow;
    zombie.child.kill('SIGSTOP');
    try {
      // Quiet for longer than OPEN_CHUNK_STALE_AFTER_MS: the next replay takes its chunk over.
      await sleep(QUIET_LONG_ENOUGH_MS + 1_000);
      const other = await deployment.replay(
        ['--experiment', 'experiments.site_wide'],
        'other.json',
      );
      expect(other.recovered).toMatchObject({ chunks: 1 });
    } finally {
      zombie.child.kill('SIGCONT');
      deployment.proxy.release();
    }
    // Its store write goes through after the takeover; its transaction is fenced.
    expect((await zombie.done).status).toBe(1);
    expect(await deployment.storedUnpublished()).toBeGreaterThan(0);

    await deployment.replay();
    await expectReferenceOnce();
  });

  it('the store restarted mid-chunk: whether the replay waits it out or fails, the same command then gives each message once', async () => {
    const first = deployment.startReplay(['--dead-letters']);
    await deployment.chunkOpened();
    WorkerSystem.restartService('ferretdb');
    const outcome = await first.done;
    expect([0, 1]).toContain(outcome.status);

    await deployment.replay(['--dead-letters']);
    await expectReferenceOnce();
    await expectEachDeadLetterOnce();
  });
});
