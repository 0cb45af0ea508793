import { analyticsMessageOf, type AnalyticsMessage } from '@assigner/contracts';
import { namespacedName } from '@assigner/domain';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../workloads/synthetic-log';
import { assignerAsync, replaySummaryOf as summaryOf } from '../support/cli';
import {
  experimentsOf,
  byId,
  simulateLines,
  summary,
  WorkerSystem,
} from '../support/worker-harness';
import { waitFor } from '../support/real-services';

jest.setTimeout(900_000);

const LINES = [...syntheticTrackingLog({ lines: 100_000, users: 10_000, seed: 11 })];
const EXPERIMENTS = experimentsOf(BENCH_EXPERIMENTS);

describe('assigner replay and republish, on the real broker and store', () => {
  let dir: string;
  let file: string;
  let reference: Awaited<ReturnType<typeof simulateLines>>;
  let system: WorkerSystem;

  const envOf = (target: WorkerSystem) => ({
    ...process.env,
    MONGO_DB: target.database,
    ANALYTICS_TOPIC: target.analyticsTopic,
    DLQ_TOPIC: target.dlqTopic,
  });
  const replay = (target: WorkerSystem, extra: string[] = [], interruptAfterMs?: number) =>
    assignerAsync(
      ['replay', '--events', file, '--checkpoint', join(dir, `${target.id}.json`), ...extra],
      envOf(target),
      interruptAfterMs,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'replay-'));
    file = join(dir, 'history.log');
    writeFileSync(file, `${LINES.join('\n')}\n`);
    reference = await simulateLines(LINES, EXPERIMENTS);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    system = new WorkerSystem(6);
    await system.setUp(BENCH_EXPERIMENTS);
  });
  afterEach(async () => {
    await system.tearDown();
  });

  it('a dry run changes nothing; a replay gives what simulate gives; a second one adds and publishes nothing', async () => {
    const dry = summaryOf(await replay(system, ['--dry-run']));
    expect(dry).toMatchObject({
      finished: true,
      newAssignments: reference.assignments.length,
      published: 0,
    });
    expect(await system.storedAssignments()).toEqual([]);

    const first = summaryOf(await replay(system, ['--dead-letters']));
    expect(first).toMatchObject({
      finished: true,
      lines: LINES.length,
      newAssignments: reference.assignments.length,
      published: reference.analytics.length,
      deadLettered: reference.invalid,
    });
    const deadLetters = await system.readAll(system.dlqTopic, reference.invalid);
    expect(deadLetters).toHaveLength(reference.invalid);
    for (const { value, headers } of deadLetters) {
      expect(headers['dlq-source-file']).toBe(file);
      expect(LINES[Number(headers['dlq-source-line']) - 1]).toBe(value);
      expect(headers['dlq-reason']).toBeTruthy();
    }
    expect(summary(await system.storedAssignments())).toEqual(summary(reference.assignments));
    expect(summary(await system.lookupAssignments())).toEqual(summary(reference.assignments));
    expect(byId(await system.analytics(reference.analytics.length))).toEqual(
      byId(reference.analytics),
    );

    const again = summaryOf(await replay(system));
    expect(again).toMatchObject({
      finished: true,
      resumed: false,
      newAssignments: 0,
      changedBuckets: 0,
      published: 0,
    });
    expect(await system.readAll(system.analyticsTopic, reference.analytics.length)).toHaveLength(
      reference.analytics.length,
    );
  });

  it('after the worker consumed the same history, adds and publishes nothing; republish repeats the worker’s ids', async () => {
    await system.produce(LINES, true);
    await system.startWorker();
    await waitFor('the worker to consume everything', () => system.consumedEverything(), 300_000);
    expect(summary(await system.storedAssignments())).toEqual(summary(reference.assignments));
    expect(byId(await system.analytics(reference.analytics.length))).toEqual(
      byId(reference.analytics),
    );

    const replayed = summaryOf(await replay(system));
    expect(replayed).toMatchObject({
      finished: true,
      lines: LINES.length,
      newAssignments: 0,
      changedBuckets: 0,
      published: 0,
    });
    expect(await system.readAll(system.analyticsTopic, reference.analytics.length)).toHaveLength(
      reference.analytics.length,
    );

    const backfill = `${system.id}-backfill`;
    const republished = await assignerAsync(
      ['republish', '--experiment', ...EXPERIMENTS.map(namespacedName), '--topic', backfill],
      envOf(system),
    );
    expect(republished.status).toBe(0);
    expect(JSON.parse(republished.stdout)).toMatchObject({
      messages: reference.assignments.length,
    });
    const messages = (await system.readAll(backfill, reference.assignments.length)).map(
      ({ value }) => JSON.parse(value) as AnalyticsMessage,
    );
    // One message per assignment: the one the worker published for its current bucket.
    expect(byId(messages)).toEqual(
      byId(reference.assignments.map((assignment) => analyticsMessageOf(assignment))),
    );
    const published = new Set(reference.analytics.map(({ messageId }) => messageId));
    expect(messages.every(({ messageId }) => published.has(messageId))).toBe(true);
  });

  it('beside a worker consuming the same history at the same time, duplicates and loses nothing', async () => {
    const lines = LINES.slice(0, 30_000);
    const expected = await simulateLines(lines, EXPERIMENTS);
    const history = join(dir, `${system.id}-live.log`);
    writeFileSync(history, `${lines.join('\n')}\n`);
    await system.produce(lines, true);
    // Small chunks, so that the replay's writes interleave with the worker's batches.
    const replaying = assignerAsync(
      [
        'replay',
        '--events',
        history,
        '--chunk',
        '3000',
        '--checkpoint',
        join(dir, `${system.id}-live.json`),
      ],
      envOf(system),
    );
    await system.startWorker();
    const replayed = summaryOf(await replaying);
    await waitFor('the worker to consume everything', () => system.consumedEverything(), 300_000);
    expect(replayed).toMatchObject({ finished: true, lines: lines.length });
    expect(summary(await system.storedAssignments())).toEqual(summary(expected.assignments));
    // Whichever applied an event first published its changes; the other found them applied.
    expect(byId(await system.analytics(expected.analytics.length))).toEqual(
      byId(expected.analytics),
    );
  });

  it('resumed after SIGINT at a random point, ends where an uninterrupted replay ends, each message once', async () => {
    const options = ['--chunk', '25000', '--dead-letters'];
    const interrupted = await replay(system, options, 2000 + Math.random() * 8000);
    const partial = summaryOf(interrupted);
    expect(interrupted.status).toBe(partial.finished ? 0 : 130);
    const resumed = summaryOf(await replay(system, options));
    expect(resumed).toMatchObject({ finished: true, resumed: !partial.finished });
    expect(summary(await system.storedAssignments())).toEqual(summary(reference.assignments));
    expect(byId(await system.analytics(reference.analytics.length))).toEqual(
      byId(reference.analytics),
    );
    const lineNumbers = (await system.readAll(system.dlqTopic, reference.invalid)).map(
      ({ headers }) => headers['dlq-source-line'],
    );
    expect(lineNumbers).toHaveLength(reference.invalid);
    expect(new Set(lineNumbers).size).toBe(reference.invalid);
  });

  it('replays a topic, split by event time into two runs, to what simulate gives for the whole', async () => {
    const lines = LINES.slice(0, 10_000);
    const expected = await simulateLines(lines, EXPERIMENTS);
    await system.produce(lines, true);
    const split = (JSON.parse(lines[5_000]!) as { time: string }).time;
    const topicReplay = (extra: string[]) =>
      assignerAsync(
        [
          'replay',
          '--topic',
          system.inputTopic,
          '--checkpoint',
          join(dir, `${system.id}-topic.json`),
          ...extra,
        ],
        envOf(system),
      );
    const before = summaryOf(await topicReplay(['--to-time', split, '--no-publish']));
    const after = summaryOf(await topicReplay(['--from-time', split]));
    expect(before).toMatchObject({ finished: true, published: 0 });
    expect(after).toMatchObject({ finished: true });
    expect(before.lines).toBe(lines.length);
    expect(summary(await system.storedAssignments())).toEqual(summary(expected.assignments));
    expect(after.published).toBe(after.newAssignments + after.changedBuckets);
  });
});
