import type { AssignmentTally } from '@assigner/domain';
import type {
  AssignmentCountsQuery,
  CountSnapshot,
  CountSnapshotRepository,
} from '@assigner/persistence';
import type { PinoLogger } from 'nestjs-pino';
import { ExperimentCounts } from '../../../apps/admin-api/src/assignments/experiment-counts';

const EXPERIMENT = 'course_experience.animated_exy';
const tally = (count: number): AssignmentTally => ({
  rows: [{ courseId: null, bucket: 0, reason: 'hash', count }],
  first: 1,
  last: 2,
  daily: [],
});

/** A store whose counts finish when the test says, and whose snapshots live in a map. */
function setUp() {
  const pending: ((tally: AssignmentTally) => void)[] = [];
  let started = 0;
  const query = {
    count: () => {
      started += 1;
      return new Promise<AssignmentTally>((resolve) => pending.push(resolve));
    },
  };
  const stored = new Map<string, CountSnapshot>();
  const snapshots = {
    latest: (experiment: string) => Promise.resolve(stored.get(experiment) ?? null),
    save: (snapshot: CountSnapshot) => {
      stored.set(snapshot.experiment, snapshot);
      return Promise.resolve();
    },
  };
  const logger = { warn: () => undefined };
  const counts = new ExperimentCounts(
    query as unknown as AssignmentCountsQuery,
    snapshots as unknown as CountSnapshotRepository,
    logger as unknown as PinoLogger,
  );
  return { counts, pending, stored, started: () => started };
}

describe('ExperimentCounts (the stats route’s counts)', () => {
  it('answers a quick count at once, and counts again for the next request', async () => {
    const { counts, pending, started } = setUp();
    const first = counts.current(EXPERIMENT);
    await new Promise((resolve) => setImmediate(resolve));
    pending.shift()!(tally(3));
    expect(await first).toMatchObject({ kind: 'counted', recounting: false });
    const second = counts.current(EXPERIMENT);
    await new Promise((resolve) => setImmediate(resolve));
    pending.shift()!(tally(4));
    expect(await second).toMatchObject({ kind: 'counted', snapshot: { rows: [{ count: 4 }] } });
    expect(started()).toBe(2);
  });

  it('says a first long count is running, runs it once, then answers from it while current', async () => {
    const { counts, pending, stored, started } = setUp();
    expect(await counts.current(EXPERIMENT)).toMatchObject({ kind: 'counting' });
    expect(await counts.current(EXPERIMENT)).toMatchObject({ kind: 'counting' });
    expect(started()).toBe(1);
    pending.shift()!(tally(7));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stored.get(EXPERIMENT)?.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(await counts.current(EXPERIMENT)).toMatchObject({
      kind: 'counted',
      snapshot: { rows: [{ count: 7 }] },
      recounting: false,
    });
    expect(started()).toBe(1);
  }, 10_000);

  it('answers the previous count, marked recounting, while a new long one runs', async () => {
    const { counts, pending, stored } = setUp();
    stored.set(EXPERIMENT, {
      experiment: EXPERIMENT,
      ...tally(5),
      countedAt: new Date(Date.now() - 60_000),
      durationMs: 2_000,
    });
    expect(await counts.current(EXPERIMENT)).toMatchObject({
      kind: 'counted',
      snapshot: { rows: [{ count: 5 }] },
      recounting: true,
    });
    pending.shift()!(tally(6));
  }, 10_000);

  it('for the monitor: awaits a needed count to its end, joining one under way, and reuses a current one', async () => {
    const { counts, pending, started } = setUp();
    const first = counts.counted(EXPERIMENT);
    const joined = counts.counted(EXPERIMENT);
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    expect(started()).toBe(1);
    pending.shift()!(tally(9));
    expect(await first).toMatchObject({ rows: [{ count: 9 }] });
    expect(await joined).toMatchObject({ rows: [{ count: 9 }] });
    // A count that took over a second stays current for ten times as long.
    expect(await counts.counted(EXPERIMENT)).toMatchObject({ rows: [{ count: 9 }] });
    expect(started()).toBe(1);
  }, 10_000);
});
