import type { AppConfig } from '@assigner/config';
import type { CountSnapshot, ExperimentRepository } from '@assigner/persistence';
import type { PinoLogger } from 'nestjs-pino';
import type { ExperimentCounts } from '../../../apps/admin-api/src/assignments/experiment-counts';
import { SampleRatioMonitor } from '../../../apps/admin-api/src/metrics/sample-ratio-monitor';

const NAMES = ['course_experience.first', 'course_experience.second'];

/** Counts that finish when the test says; records which experiments' counts are under way. */
function setUp() {
  const underWay: string[] = [];
  const finish = new Map<string, () => void>();
  const counts = {
    counted: (experiment: string) =>
      new Promise<CountSnapshot>((resolve) => {
        underWay.push(experiment);
        finish.set(experiment, () => {
          underWay.splice(underWay.indexOf(experiment), 1);
          resolve({
            experiment,
            rows: [
              { courseId: null, bucket: 0, reason: 'hash', count: 500 },
              { courseId: null, bucket: 1, reason: 'hash', count: 500 },
            ],
            first: 1,
            last: 2,
            daily: [],
            countedAt: new Date(),
            durationMs: 120_000,
          });
        });
      }),
  };
  const experiments = {
    list: () =>
      Promise.resolve(
        NAMES.map((full) => {
          const [namespace, name] = full.split('.');
          return { experiment: { namespace, name, numBuckets: 2 }, archived: false };
        }),
      ),
  };
  const monitor = new SampleRatioMonitor(
    { SAMPLE_RATIO_CHECK_MS: 0 } as AppConfig,
    experiments as unknown as ExperimentRepository,
    counts as unknown as ExperimentCounts,
    { warn: () => undefined } as unknown as PinoLogger,
  );
  return { monitor, underWay, finish };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('SampleRatioMonitor', () => {
  it('counts the experiments in force one at a time, each to its end, and exports each p-value', async () => {
    const { monitor, underWay, finish } = setUp();
    const round = monitor.refresh();
    await settled();
    expect(underWay).toEqual([NAMES[0]]);
    finish.get(NAMES[0]!)!();
    await settled();
    expect(underWay).toEqual([NAMES[1]]);
    finish.get(NAMES[1]!)!();
    await round;
    const exported = await monitor.registry.getSingleMetricAsString(
      'assigner_sample_ratio_p_value',
    );
    for (const name of NAMES) expect(exported).toContain(`experiment="${name}"} 1`);
  });
});
