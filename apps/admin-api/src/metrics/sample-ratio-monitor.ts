import { AppConfig } from '@assigner/config';
import { namespacedName, summarizeBucketCounts } from '@assigner/domain';
import { ExperimentRepository } from '@assigner/persistence';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ExperimentCounts } from '../assignments/experiment-counts';

/**
 * Keeps each experiment in force's sample-ratio check current and exported (`/metrics`), so that
 * an alert fires while an experiment runs rather than when someone asks. Counts come from
 * `ExperimentCounts`, which recounts only as often as its cost allows (see `countIsCurrent`).
 */
@Injectable()
export class SampleRatioMonitor implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly pValue = new Gauge({
    name: 'assigner_sample_ratio_p_value',
    help: "Chi-square p-value of the experiment's hashed assignments against an equal split",
    labelNames: ['experiment'],
    registers: [this.registry],
  });
  private readonly mismatch = new Gauge({
    name: 'assigner_sample_ratio_mismatch',
    help: '1 when the p-value is below 0.001 (the split is not the one the hash gives), else 0',
    labelNames: ['experiment'],
    registers: [this.registry],
  });
  private readonly countedAt = new Gauge({
    name: 'assigner_sample_ratio_counted_at_seconds',
    help: 'When the count behind the check began (Unix time)',
    labelNames: ['experiment'],
    registers: [this.registry],
  });
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    private readonly experiments: ExperimentRepository,
    private readonly counts: ExperimentCounts,
    private readonly logger: PinoLogger,
  ) {
    collectDefaultMetrics({ register: this.registry });
  }

  onModuleInit(): void {
    const every = this.config.SAMPLE_RATIO_CHECK_MS;
    if (every === 0) return;
    const tick = () => {
      // One round at a time: a long first count outlasts the interval.
      this.running ??= this.refresh()
        .catch((error: unknown) => {
          if (!this.stopping) this.logger.warn({ err: error }, 'sample-ratio check failed');
        })
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, every);
    this.timer.unref();
    tick();
  }

  /** Not waiting for a count under way: at a million assignments it may read for minutes. */
  onModuleDestroy(): void {
    this.stopping = true;
    clearInterval(this.timer);
  }

  /** One round: every experiment in force, counted as current as the counts allow, in turn. */
  async refresh(): Promise<void> {
    const inForce = (await this.experiments.list()).filter(({ archived }) => !archived);
    const names = new Set<string>();
    for (const { experiment } of inForce) {
      if (this.stopping) return;
      const name = namespacedName(experiment);
      names.add(name);
      // One experiment's count at a time (see `ExperimentCounts.counted`).
      const snapshot = await this.counts.counted(name);
      const { sampleRatio } = summarizeBucketCounts(experiment.numBuckets, snapshot.rows);
      this.countedAt.set({ experiment: name }, snapshot.countedAt.getTime() / 1000);
      if (!sampleRatio || sampleRatio.total === 0) {
        this.pValue.remove({ experiment: name });
        this.mismatch.remove({ experiment: name });
        continue;
      }
      this.pValue.set({ experiment: name }, sampleRatio.pValue);
      this.mismatch.set({ experiment: name }, sampleRatio.mismatch ? 1 : 0);
    }
    // Archived or deleted experiments stop being reported.
    for (const gauge of [this.pValue, this.mismatch, this.countedAt])
      for (const { labels } of (await gauge.get()).values)
        if (typeof labels.experiment === 'string' && !names.has(labels.experiment))
          gauge.remove({ experiment: labels.experiment });
  }
}
