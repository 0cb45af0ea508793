import type { AppConfig } from '@assigner/config';
import { analyticsMessageOf, type AnalyticsMessage } from '@assigner/contracts';
import {
  analyticsRecord,
  createKafka,
  ensureTopics,
  SEND_SLICE,
  TRANSACTION_TIMEOUT_MS,
} from '@assigner/messaging';
import { LearnerStateRepository } from '@assigner/persistence';
import type { Db } from 'mongodb';
import { randomUUID } from 'node:crypto';
import type pino from 'pino';

export interface RepublishRequest {
  /** Namespaced experiment names. */
  experiments: readonly string[];
  /** The backfill topic, created if missing. */
  topic: string;
  /** Only assignments whose bucket was set at or after this time (microseconds). */
  since?: number;
  /** Messages per Kafka transaction. */
  chunkSize: number;
}

/** Told how a republish advances, for people. */
export interface RepublishReporter {
  /** Reading began: about `learners` learners stored. */
  begin(learners: number): void;
  advance(learners: number, messages: number): void;
  end(): void;
}

export interface RepublishSummary {
  topic: string;
  learners: number;
  messages: number;
  transactions: number;
  experiments: Record<string, number>;
  seconds: number;
}

/**
 * The stored assignments of some experiments as analytics messages (the current bucket's, with
 * the messageId the worker published it under) to a backfill topic, in a Kafka transaction per
 * chunk. Reads the learners' latest states, one learner at a time.
 */
export async function republishAssignments(
  request: RepublishRequest,
  environment: { db: Db; kafka: AppConfig; logger: pino.Logger; reporter: RepublishReporter },
): Promise<RepublishSummary> {
  const { db, kafka: config, logger, reporter } = environment;
  const experiments = new Set(request.experiments);
  const kafka = createKafka(config, logger, 'republish');
  await ensureTopics(kafka, [
    { topic: request.topic, setting: '--topic', numPartitions: config.TOPIC_PARTITIONS },
  ]);
  const repository = new LearnerStateRepository(db);
  reporter.begin(await repository.states.estimatedDocumentCount());
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
          topic: request.topic,
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
        if (request.since !== undefined && assignment.lastDecidedAt < request.since) continue;
        chunk.push(analyticsMessageOf(assignment));
        perExperiment[assignment.experiment]! += 1;
      }
      if (chunk.length >= request.chunkSize) await flush();
      if (totals.learners % 1000 === 0) reporter.advance(totals.learners, totals.messages);
    }
    await flush();
  } finally {
    reporter.end();
    await producer.disconnect();
  }
  return {
    topic: request.topic,
    ...totals,
    experiments: perExperiment,
    seconds: Number(((Date.now() - started) / 1000).toFixed(3)),
  };
}
