import { HELD_OUT_EVENT } from '@assigner/contracts';
import { InMemoryAssigner } from '@assigner/pipeline';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../workloads/synthetic-log';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignerAsync, replaySummaryOf } from '../support/cli';
import { waitFor } from '../support/real-services';
import { byId, experimentsOf, summary, WorkerSystem } from '../support/worker-harness';

jest.setTimeout(600_000);

// A holdout covering two experiments, a layer of three mutually exclusive experiments, and a
// bucket version raised mid-stream: the worker, killed with -9 in each half, gives what
// simulate gives for the same stream and definitions.

const LINES = [...syntheticTrackingLog({ lines: 20_000, users: 2_000, seed: 18 })];
const HALF = LINES.length / 2;
const layered = (name: string, range: [number, number]) => ({
  namespace: 'checkout',
  name,
  scope: 'global',
  numBuckets: 2,
  flag: { everyone: true },
  layer: { name: 'checkout', range },
});
const HOLDOUT = { name: 'holdouts.q1', percent: 15 };
const FIRST = {
  experiments: [
    ...BENCH_EXPERIMENTS.experiments.map((experiment) =>
      experiment.name === 'animated_exy' || experiment.name === 'site_wide'
        ? { ...experiment, holdout: HOLDOUT }
        : experiment,
    ),
    layered('one', [0, 30]),
    layered('two', [30, 60]),
    layered('three', [60, 100]),
  ],
};
/** When the second half begins: the bucket version raised then takes effect from then on. */
const BUMPED_AT = (JSON.parse(LINES[HALF]!) as { time: string }).time;
/** The second half: four_way re-randomized, and the layer's shares moved (nobody assigned moves). */
const SECOND = {
  experiments: FIRST.experiments.map((experiment) => {
    if (experiment.name === 'four_way')
      return { ...experiment, bucketVersion: 1, bucketVersionFrom: { '1': BUMPED_AT } };
    if (experiment.name === 'one') return layered('one', [70, 100]);
    if (experiment.name === 'two') return layered('two', [0, 40]);
    if (experiment.name === 'three') return layered('three', [40, 70]);
    return experiment;
  }),
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('holdouts, layers and bucket versions through the worker', () => {
  const system = new WorkerSystem(4);
  afterAll(() => system.tearDown());

  it('gives what simulate gives, through a kill -9 in each half, and a replay of it changes nothing', async () => {
    await system.setUp(FIRST);
    let worker = await system.startWorker('first');
    for (const [index, lines] of [LINES.slice(0, HALF), LINES.slice(HALF)].entries()) {
      if (index === 1) {
        await system.applyExperiments(experimentsOf(SECOND));
        // Workers re-read definitions every 2 s (EXPERIMENTS_REFRESH_MS).
        await sleep(2500);
      }
      await system.produce(lines, true);
      await sleep(500 + Math.random() * 1500);
      await system.stopWorker(worker, 'SIGKILL');
      worker = await system.startWorker(`after-kill-${index}`);
      await waitFor('the worker to consume the half', () => system.consumedEverything(), 300_000);
    }

    const expected = new InMemoryAssigner(experimentsOf(FIRST));
    const toMessages = (lines: string[], from: number) =>
      lines.map((value, index) => ({
        value,
        position: { source: 'reference', offset: from + index },
      }));
    const before = await expected.process(toMessages(LINES.slice(0, HALF), 0));
    expected.useExperiments(experimentsOf(SECOND));
    const after = await expected.process(toMessages(LINES.slice(HALF), HALF));
    const reference = [...before.analytics, ...after.analytics];

    expect(summary(await system.storedAssignments())).toEqual(summary(expected.assignments()));
    expect(byId(await system.analytics(reference.length))).toEqual(byId(reference));

    // The features did something: learners held out (once each), the layer exclusive, a version.
    const stored = await system.storedAssignments();
    const heldOut = reference.filter(({ event }) => event === HELD_OUT_EVENT);
    expect(heldOut.length).toBeGreaterThan(100);
    expect(new Set(heldOut.map(({ userId }) => userId)).size).toBe(heldOut.length);
    const layers = new Map<number, Set<string>>();
    for (const { experiment, userId } of stored)
      if (experiment.startsWith('checkout.'))
        layers.set(userId, (layers.get(userId) ?? new Set()).add(experiment));
    expect(layers.size).toBeGreaterThan(500);
    for (const held of layers.values()) expect(held.size).toBe(1);
    expect(after.analytics.some(({ properties }) => properties.bucket_version === 1)).toBe(true);

    // Replaying the same history is idempotent with these features too: nothing new, nothing sent.
    await system.stopWorker(worker);
    const dir = mkdtempSync(join(tmpdir(), 'holdouts-'));
    try {
      const file = join(dir, 'history.log');
      writeFileSync(file, `${LINES.join('\n')}\n`);
      const replayed = replaySummaryOf(
        await assignerAsync(
          ['replay', '--events', file, '--checkpoint', join(dir, 'checkpoint.json')],
          {
            ...process.env,
            MONGO_DB: system.database,
            ANALYTICS_TOPIC: system.analyticsTopic,
            DLQ_TOPIC: system.dlqTopic,
          },
        ),
      );
      expect(replayed).toMatchObject({ newAssignments: 0, changedBuckets: 0, published: 0 });
      expect(summary(await system.storedAssignments())).toEqual(summary(expected.assignments()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
