import type { AnalyticsMessage } from '@assigner/contracts';
import type { AssignmentRecord } from '@assigner/domain';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../bench/synthetic-log';
import { experimentsOf, simulateLines, waitFor, WorkerSystem } from '../support/worker-harness';

jest.setTimeout(600_000);

const LINES = [...syntheticTrackingLog({ lines: 50_000, users: 5_000, seed: 7 })];
const EXPERIMENTS = experimentsOf(BENCH_EXPERIMENTS);

const byId = (messages: AnalyticsMessage[]) =>
  [...messages].sort((a, b) => a.messageId.localeCompare(b.messageId));
const summary = (assignments: AssignmentRecord[]) =>
  assignments
    .map(
      (a) =>
        `${a.experiment}|${a.courseId ?? ''}|${a.userId}|${a.username}|${a.bucket}|${a.reason}|v${a.version}`,
    )
    .sort();

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

  it('gives exactly what simulate gives for a 50k-event stream keyed by user id', async () => {
    await system.produce(LINES, true);
    await system.startWorker();
    await waitFor('the worker to consume everything', () => system.consumedEverything(), 300_000);

    expect(summary(await system.storedAssignments())).toEqual(summary(reference.assignments));
    expect(byId(await system.analytics(reference.analytics.length))).toEqual(
      byId(reference.analytics),
    );
    expect(await system.readAll(system.dlqTopic, reference.invalid)).toHaveLength(
      reference.invalid,
    );
  });
});
