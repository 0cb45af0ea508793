import type { InboundHeaders, InboundMessage } from '@assigner/contracts';
import type { EventBusDecoder, TransactionalOutput } from '@assigner/messaging';
import type { LearnerStateRepository } from '@assigner/persistence';
import { BatchAssigner, type BatchResult } from '@assigner/pipeline';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { ExperimentCatalog } from './experiment-catalog.service';
import type { WorkerMetrics } from './worker-metrics';

/**
 * One input batch of one partition, in order: decide and store (idempotently, stamped with the
 * source positions), and publish and commit the offsets in one Kafka transaction; the messages
 * go out while the store writes, and the transaction commits once it has. A failure
 * anywhere throws before the commit, so the batch is delivered again and nothing is lost;
 * redelivered events recognise their own stored changes and publish the same messages again.
 */
export class AssignmentBatchHandler {
  private readonly assigner: BatchAssigner;

  constructor(
    store: LearnerStateRepository,
    private readonly catalog: ExperimentCatalog,
    private readonly output: TransactionalOutput,
    private readonly decoder: EventBusDecoder,
    private readonly metrics: WorkerMetrics,
  ) {
    this.assigner = new BatchAssigner(store);
  }

  async handle(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty()) return;
    const timer = this.metrics.batchDuration.startTimer();
    const source = `${batch.topic}/${batch.partition}`;
    // A retry of a batch whose partition has moved on must not claim it back from its new owner.
    if (!payload.isRunning() || payload.isStale()) return;
    // Skip what is published already (by the previous owner, or by this worker before a retry).
    const published = await this.output.claim(batch.topic, batch.partition);
    const messages = batch.messages.filter((m) => Number(m.offset) >= published);
    if (messages.length === 0) {
      // All published already; committing this batch's end could move the group's offset back.
      payload.resolveOffset(batch.lastOffset());
      return;
    }
    const revoked = () => !payload.isRunning() || payload.isStale();
    // A batch can outlast the session timeout on a slow store, or wait for the schema registry:
    // keep the membership alive meanwhile.
    const heartbeats = setInterval(() => void payload.heartbeat().catch(() => undefined), 3000);
    let result: BatchResult;
    try {
      // Before the transaction opens: a registry outage may hold this batch for long.
      const decoded = await this.decoder.decode(inbound(messages, source), () => !revoked());
      if (!decoded.ok) return;
      const transaction = await this.output.begin(batch.topic, batch.partition);
      try {
        result = await this.assigner.process(decoded.messages, this.catalog.current(), {
          output: transaction,
          attributes: this.catalog.learnerAttributes(),
        });
        // Revoked meanwhile: the next owner redoes this batch; committing would be refused anyway.
        if (revoked()) return await transaction.abort();
        await transaction.commit({
          nextOffset: String(Number(batch.lastOffset()) + 1),
          deadLetters: result.deadLetters,
        });
      } catch (error) {
        await transaction.abort();
        throw error;
      }
    } finally {
      clearInterval(heartbeats);
    }
    payload.resolveOffset(batch.lastOffset());
    await payload.heartbeat();

    timer();
    this.metrics.events.inc({ kind: 'enrollment' }, result.counts.enrollments);
    this.metrics.events.inc({ kind: 'page_view' }, result.counts.pageViews);
    this.metrics.events.inc({ kind: 'ignored' }, result.counts.ignored);
    this.metrics.events.inc({ kind: 'invalid' }, result.counts.invalid);
    this.metrics.deadLetters.inc(result.deadLetters.length);
    this.metrics.analyticsMessages.inc(result.analytics.length);
    for (const { experiment, outcome, count } of result.decisions)
      this.metrics.decisions.inc({ experiment, outcome }, count);
    this.metrics.lag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Number(batch.offsetLag()),
    );
  }
}

const inbound = (messages: readonly KafkaMessage[], source: string): InboundMessage[] =>
  messages.map((message) => ({
    value: message.value,
    key: message.key,
    headers: message.headers as InboundHeaders | undefined,
    position: { source, offset: Number(message.offset) },
  }));
