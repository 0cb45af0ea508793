import { analyticsMessageOf } from '@assigner/contracts';
import { InMemoryAssigner } from '@assigner/pipeline';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../workloads/synthetic-log';
import {
  experimentsOf,
  byId,
  simulateLines,
  summary,
  WorkerSystem,
} from '../support/worker-harness';
import { waitFor } from '../support/real-services';

jest.setTimeout(600_000);

const LINES = [...syntheticTrackingLog({ lines: 50_000, users: 5_000, seed: 7 })];
const EXPERIMENTS = experimentsOf(BENCH_EXPERIMENTS);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the worker on the real broker and store', () => {
  let system: WorkerSystem;
  let reference: Awaited<ReturnType<typeof simulateLines>>;

  beforeAll(async () => {
    reference = await simulateLines(LINES, EXPERIMENTS);
  });
  beforeEach(async () => {
    system = new WorkerSystem(6);
    await system.setUp(BENCH_EXPERIMENTS);
  });
  afterEach(async () => {
    await system.tearDown();
  });

  async function expectSameAsSimulate(): Promise<void> {
    await waitFor('the workers to consume everything', () => system.consumedEverything(), 300_000);
    expect(summary(await system.storedAssignments())).toEqual(summary(reference.assignments));
    expect(summary(await system.lookupAssignments())).toEqual(summary(reference.assignments));
    expect(byId(await system.analytics(reference.analytics.length))).toEqual(
      byId(reference.analytics),
    );
    expect(await system.readAll(system.dlqTopic, reference.invalid)).toHaveLength(
      reference.invalid,
    );
  }

  it('gives exactly what simulate gives for a 50k-event stream keyed by user id', async () => {
    await system.produce(LINES, true);
    await system.startWorker();
    await expectSameAsSimulate();
  });

  it('gives the same through three kill -9 of the worker at random points', async () => {
    await system.produce(LINES, true);
    let worker = await system.startWorker('killed');
    for (let kill = 0; kill < 3; kill++) {
      await sleep(1000 + Math.random() * 4000);
      await system.stopWorker(worker, 'SIGKILL');
      worker = await system.startWorker(`restarted-${kill}`);
    }
    await expectSameAsSimulate();
  });

  it('gives the same with three workers joining and one leaving mid-stream (rebalances)', async () => {
    await system.produce(LINES, true);
    const first = await system.startWorker('first');
    await sleep(2000);
    await system.startWorker('second');
    await sleep(2000);
    await system.startWorker('third');
    await sleep(2000);
    await system.stopWorker(first, 'SIGTERM');
    await expectSameAsSimulate();
  });

  it('loses and duplicates nothing for unkeyed input: one message per bucket each assignment held', async () => {
    await system.produce(LINES, false);
    await system.startWorker('a');
    await system.startWorker('b');
    await waitFor('the workers to consume everything', () => system.consumedEverything(), 300_000);
    const assignments = await system.storedAssignments();
    const expected = assignments.flatMap((a) =>
      a.history.map((change) => analyticsMessageOf(a, change).messageId),
    );
    const published = (await system.analytics(expected.length)).map((message) => message.messageId);
    expect(published).toHaveLength(new Set(published).size);
    expect(new Set(published)).toEqual(new Set(expected));
  });

  it('gives the same through a restart of the Kafka broker mid-stream', async () => {
    await system.produce(LINES, true);
    await system.startWorker();
    await sleep(4000);
    WorkerSystem.restartService('kafka');
    await expectSameAsSimulate();
  });

  it('gives the same through a restart of the store mid-stream', async () => {
    await system.produce(LINES, true);
    await system.startWorker();
    await sleep(4000);
    WorkerSystem.restartService('ferretdb');
    await expectSameAsSimulate();
  });

  it('applies a definition change to later decisions, with one new message per moved assignment', async () => {
    const half = LINES.length / 2;
    const course = 'course-v1:edX+DemoX+2026';
    const changed = experimentsOf({
      experiments: BENCH_EXPERIMENTS.experiments.map((e) =>
        e.name === 'animated_exy'
          ? { ...e, bucketFlags: { '1': { courses: { [course]: 'on' } } } }
          : e,
      ),
    });
    await system.produce(LINES.slice(0, half), true);
    await system.startWorker();
    await waitFor('the first half', () => system.consumedEverything(), 300_000);
    await system.applyExperiments(changed);
    await sleep(2000);
    await system.produce(LINES.slice(half), true);
    await waitFor('the second half', () => system.consumedEverything(), 300_000);

    const expected = new InMemoryAssigner(EXPERIMENTS);
    const toMessages = (lines: string[], from: number) =>
      lines.map((value, index) => ({
        value,
        position: { source: 'reference', offset: from + index },
      }));
    const before = await expected.process(toMessages(LINES.slice(0, half), 0));
    expected.useExperiments(changed);
    const after = await expected.process(toMessages(LINES.slice(half), half));
    expect(summary(await system.storedAssignments())).toEqual(summary(expected.assignments()));
    const published = byId(
      await system.analytics(before.analytics.length + after.analytics.length),
    );
    expect(published).toEqual(byId([...before.analytics, ...after.analytics]));

    const moved = (await system.storedAssignments()).filter(
      (a) =>
        a.experiment === 'course_experience.animated_exy' &&
        a.courseId === course &&
        a.history.length === 2,
    );
    expect(moved.length).toBeGreaterThan(10);
    for (const assignment of moved) {
      expect(assignment.history.map((change) => [change.bucket, change.reason])).toEqual([
        [0, 'hash'],
        [1, 'forced'],
      ]);
    }
    const publishedIds = published.map((message) => message.messageId);
    for (const assignment of moved) {
      const id = analyticsMessageOf(assignment, assignment.history[1]).messageId;
      expect(publishedIds.filter((published) => published === id)).toHaveLength(1);
    }
  });

  it('adds nothing when a producer sends the whole stream a second time', async () => {
    await system.produce(LINES, true);
    await system.startWorker();
    await waitFor('the first copy', () => system.consumedEverything(), 300_000);
    const before = summary(await system.storedAssignments());
    await system.produce(LINES, true);
    await waitFor('the second copy', () => system.consumedEverything(), 300_000);
    expect(summary(await system.storedAssignments())).toEqual(before);
    expect(byId(await system.analytics(reference.analytics.length))).toEqual(
      byId(reference.analytics),
    );
  });
});
