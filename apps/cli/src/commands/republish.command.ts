import { analyticsMessageOf, type AnalyticsMessage } from '@assigner/contracts';
import { parseIsoMicros } from '@assigner/domain';
import {
  analyticsRecord,
  createKafka,
  ensureTopics,
  SEND_SLICE,
  TRANSACTION_TIMEOUT_MS,
} from '@assigner/messaging';
import { LearnerStateRepository } from '@assigner/persistence';
import { SingleBar } from 'cli-progress';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { appConfig, withStore } from '../io/cli-config';
import { UsageError } from '../usage-error';

export interface RepublishOptions {
  experiment: string[];
  topic: string;
  since?: string;
  chunk: string;
}

/**
 * `assigner republish`: the stored assignments of some experiments as analytics messages (the
 * current bucket's, with the messageId the worker published it under) to a backfill topic, in a
 * Kafka transaction per chunk. Reads the learners' latest states, one learner at a time.
 */
export async function republish(options: RepublishOptions): Promise<void> {
  const problems: string[] = [];
  const since = options.since === undefined ? undefined : parseIsoMicros(options.since);
  if (options.since !== undefined && since === undefined)
    problems.push(`--since ${options.since} is not an ISO-8601 date or time`);
  const chunkSize = Number(options.chunk);
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 100_000)
    problems.push(`--chunk must be a whole number from 1 to 100000 (got ${options.chunk})`);
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(options.topic))
    problems.push(`--topic ${options.topic} is not a topic name`);
  if (problems.length > 0) throw new UsageError(problems);
  const experiments = new Set(options.experiment);
  const config = appConfig();
  const kafka = createKafka(config, pino({ level: 'warn' }, pino.destination(2)), 'republish');
  await ensureTopics(kafka, [
    { topic: options.topic, setting: '--topic', numPartitions: config.TOPIC_PARTITIONS },
  ]);

  await withStore(config, async (db) => {
    const repository = new LearnerStateRepository(db);
    const learners = await repository.states.estimatedDocumentCount();
    const bar = process.stderr.isTTY
      ? new SingleBar({
          format:
            'republish [{bar}] {percentage}% | {messages} messages | {rate} msg/s | ETA {eta_formatted}',
          stream: process.stderr,
        })
      : undefined;
    bar?.start(learners, 0, { messages: 0, rate: 0 });
    const producer = kafka.producer({
      transactionalId: `${config.KAFKA_CLIENT_ID}-republish-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: TRANSACTION_TIMEOUT_MS,
    });
    await producer.connect();
    const started = Date.now();
    const totals = { learners: 0, messages: 0, transactions: 0 };
    const perExperiment: Record<string, number> = Object.fromEntries(
      [...experiments].map((name) => [name, 0]),
    );
    let chunk: AnalyticsMessage[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const transaction = await producer.transaction();
      try {
        for (let start = 0; start < chunk.length; start += SEND_SLICE)
          await transaction.send({
            topic: options.topic,
            messages: chunk.slice(start, start + SEND_SLICE).map(analyticsRecord),
          });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
      totals.messages += chunk.length;
      totals.transactions += 1;
      chunk = [];
    };
    try {
      for await (const state of repository.latestStatesInOrder()) {
        totals.learners += 1;
        for (const assignment of state.assignments.values()) {
          if (!experiments.has(assignment.experiment)) continue;
          if (since !== undefined && assignment.lastDecidedAt < since) continue;
          chunk.push(analyticsMessageOf(assignment));
          perExperiment[assignment.experiment]! += 1;
        }
        if (chunk.length >= chunkSize) await flush();
        if (totals.learners % 1000 === 0)
          bar?.update(totals.learners, {
            messages: totals.messages,
            rate: Math.round(totals.messages / Math.max((Date.now() - started) / 1000, 0.001)),
          });
      }
      await flush();
    } finally {
      bar?.stop();
      await producer.disconnect();
    }
    process.stdout.write(
      `${JSON.stringify({
        topic: options.topic,
        ...totals,
        experiments: perExperiment,
        seconds: Number(((Date.now() - started) / 1000).toFixed(3)),
      })}\n`,
    );
  });
}
