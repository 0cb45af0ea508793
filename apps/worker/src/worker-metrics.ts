import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The worker's Prometheus metrics, on one registry served at /metrics. */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly events = new Counter({
    name: 'assigner_events_total',
    help: 'Input messages by kind (enrollment, page_view, ignored, invalid)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'assigner_dead_letters_total',
    help: 'Invalid input messages sent to the dead-letter topic',
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'assigner_decisions_total',
    help: 'Decisions by experiment and outcome ("bucket N" or the not-bucketed reason)',
    labelNames: ['experiment', 'outcome'],
    registers: [this.registry],
  });
  readonly analyticsMessages = new Counter({
    name: 'assigner_analytics_messages_total',
    help: 'Bucketed events published to the analytics topic (committed batches)',
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'assigner_batch_duration_seconds',
    help: 'Time to decide, store and publish one input batch',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'assigner_consumer_lag',
    help: 'Messages behind the partition end, after the last batch',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
