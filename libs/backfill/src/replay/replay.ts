import type { AppConfig } from '@assigner/config';
import type { LearnerStateStore } from '@assigner/contracts';
import { LearnerAttributesTable, namespacedName, type Experiment } from '@assigner/domain';
import {
  createKafka,
  ensureTopics,
  EventBusDecoder,
  TransactionalOutput,
} from '@assigner/messaging';
import {
  ExperimentRepository,
  LearnerAttributesRepository,
  LearnerStateRepository,
  OpenChunkRepository,
  type ChunkWriter,
} from '@assigner/persistence';
import { BatchAssigner, MemoryLearnerStore } from '@assigner/pipeline';
import type { Kafka } from 'kafkajs';
import type { Db } from 'mongodb';
import { randomUUID } from 'node:crypto';
import type pino from 'pino';
import { InvalidBackfillRequest } from '../invalid-backfill-request';
import { OpenChunkTakeover } from '../open-chunk-takeover';
import { replayFiles } from './file-replay';
import { CheckpointFile, checkpointKey, type ReplayCheckpoint } from './replay-checkpoint';
import {
  replayGroupId,
  type ReplayOutput,
  type ReplayReporter,
  type ReplayRun,
} from './replay-run';
import { emptyTotals, type ReplayTotals } from './replay-totals';
import { NOTHING_RECOVERED, takeOverOpenChunks, type Recovered } from './take-over-open-chunks';
import { replayTopicRange } from './topic-replay';

export interface ReplayRequest {
  /** Event files in order, or a topic from its beginning to its end at the start. */
  input: { files: readonly string[] } | { topic: string };
  /** Event time bounds, `[from, to)`, in microseconds. */
  from?: number;
  to?: number;
  /** Decide only these experiments (namespaced names); all in force when absent or empty. */
  experiments?: readonly string[];
  dryRun: boolean;
  /** Publish the analytics messages (ignored in a dry run). */
  publish: boolean;
  /** Send the files' invalid lines to the dead-letter topic. */
  deadLetters: boolean;
  chunkSize: number;
  /** Where the checkpoint is kept; called with the key of the command's inputs and options. */
  checkpointPath: (key: string) => string;
}

export interface ReplayEnvironment {
  db: Db;
  /** The database's name, part of what makes two replays the same one. */
  dbName: string;
  /** Kafka settings: needed to publish or to read a topic. */
  kafka?: AppConfig;
  logger: pino.Logger;
  reporter: ReplayReporter;
  /** Aborted by an interrupt: the chunk in hand is finished and recorded, then the replay stops. */
  interrupt: AbortSignal;
}

/** The replay's summary: what it read, the difference it made, what it published. */
export interface ReplaySummary extends ReplayTotals {
  run: string;
  dryRun: boolean;
  /** False when interrupted: the same request resumes from `checkpoint`. */
  finished: boolean;
  resumed: boolean;
  recovered: Recovered;
  seconds: number;
  checkpoint: string;
}

/**
 * Applies history (files or a topic) to the real store with the worker's engine, each event as
 * of its own time. Idempotent: history already applied, by an earlier replay or by the worker,
 * decides nothing new. Each chunk's new assignments' messages are published in one Kafka
 * transaction with the replay's progress, committed once the chunk is stored, so an interrupted
 * replay resumed from its checkpoint publishes every message once.
 */
export async function replayHistory(
  request: ReplayRequest,
  environment: ReplayEnvironment,
): Promise<ReplaySummary> {
  const { db, kafka: kafkaConfig, logger, reporter, interrupt } = environment;
  const publishing = request.publish && !request.dryRun;
  const topic = 'topic' in request.input ? request.input.topic : undefined;
  const files = 'files' in request.input ? request.input.files : undefined;
  if ((publishing || topic !== undefined) && !kafkaConfig)
    throw new Error('a replay that publishes or reads a topic needs the Kafka settings');

  const stored = (await new ExperimentRepository(db).list()).filter(({ archived }) => !archived);
  const experiments = chooseExperiments(
    stored.map(({ experiment }) => experiment),
    request.experiments,
  );
  if (experiments.length === 0)
    reporter.notice('warning: no experiment in force: the replay only records what it learns');

  const identity = {
    files,
    topic,
    from: request.from,
    to: request.to,
    experiments: experiments.map(namespacedName),
    publish: publishing,
    db: environment.dbName,
    analyticsTopic: publishing ? kafkaConfig?.ANALYTICS_TOPIC : undefined,
    // Left out when off, so that checkpoints written before the option still match.
    deadLetters: request.deadLetters || undefined,
  };
  const key = checkpointKey(identity);
  const checkpoints = new CheckpointFile(request.checkpointPath(key));
  const previous = request.dryRun ? undefined : checkpoints.read(key);
  const resuming = previous !== undefined && !previous.done;
  const runId = resuming ? previous.runId : randomUUID();
  const startedAt = resuming ? previous.startedAt : new Date().toISOString();
  // Spread over empty totals, so that totals a checkpoint lacks (older versions) start at 0.
  const totals = {
    ...emptyTotals(experiments.map(namespacedName)),
    ...(resuming ? previous.totals : {}),
  };
  if (resuming) reporter.notice(`resuming replay ${runId} from its checkpoint ${checkpoints.path}`);
  else if (!request.dryRun) reporter.notice(`replay ${runId}; checkpoint ${checkpoints.path}`);
  const checkpoint = (done: boolean, progress: ReplayCheckpoint['progress']) =>
    checkpoints.write({ version: 1, key, runId, startedAt, done, progress, totals: { ...totals } });

  const kafka = kafkaConfig && createKafka(kafkaConfig, logger, 'replay');
  let output: ReplayOutput | undefined;
  let topicsReady: Promise<unknown> = Promise.resolve();
  let recovered: Recovered = NOTHING_RECOVERED;
  if (publishing && kafka && kafkaConfig) {
    const openChunks = new OpenChunkRepository(db);
    const writer = replayWriter(kafkaConfig, runId);
    // Before anything is stored: chunks earlier replays stored but did not commit are published.
    recovered = await takeOverOpenChunks(
      new OpenChunkTakeover(openChunks, new LearnerStateRepository(db), {
        kafka,
        brokers: kafkaConfig.KAFKA_BROKERS,
        clientId: `${kafkaConfig.KAFKA_CLIENT_ID}-replay-takeover`,
        topicPartitions: kafkaConfig.TOPIC_PARTITIONS,
        logger,
      }),
      writer,
      reporter,
    );
    // Made while the first chunk is read and decided: only its publishing needs the topics.
    const partitions = kafkaConfig.TOPIC_PARTITIONS;
    topicsReady = ensureTopics(kafka, [
      { topic: kafkaConfig.ANALYTICS_TOPIC, setting: 'ANALYTICS_TOPIC', numPartitions: partitions },
      ...(request.deadLetters
        ? [{ topic: kafkaConfig.DLQ_TOPIC, setting: 'DLQ_TOPIC', numPartitions: partitions }]
        : []),
    ]);
    topicsReady.catch(() => undefined);
    output = {
      transactions: replayTransactions(kafka, kafkaConfig, writer, logger),
      openChunks,
      writer,
    };
  }
  // Written before the first chunk, so that the same request resumes this run whenever it stops.
  if (!request.dryRun && !resuming) checkpoint(false, {});

  const started = Date.now();
  const run: ReplayRun = {
    runId,
    assigner: new BatchAssigner(await learnerStore(db, request.dryRun)),
    experiments,
    attributes: new LearnerAttributesTable(await new LearnerAttributesRepository(db).all()),
    accept: (event) =>
      (request.from === undefined || event.time >= request.from) &&
      (request.to === undefined || event.time < request.to),
    output,
    topicsReady,
    deadLetters: request.deadLetters,
    progressTopic: kafkaConfig?.ANALYTICS_TOPIC ?? '',
    totals,
    chunkSize: request.chunkSize,
    interrupt,
    dryRun: request.dryRun,
    reporter,
    save: request.dryRun ? () => undefined : (progress) => checkpoint(false, progress),
  };
  let finished: boolean;
  try {
    if (files) finished = await replayFiles(run, files, resuming ? previous.progress : undefined);
    else if (kafka && kafkaConfig && topic !== undefined)
      finished = await replayTopicRange(run, kafka, kafkaConfig, topic, {
        decoder: new EventBusDecoder({
          registryUrl: kafkaConfig.SCHEMA_REGISTRY_URL || undefined,
          logger,
        }),
        checkpointed: resuming ? previous.progress : undefined,
      });
    else throw new Error('a topic replay without Kafka settings');
  } finally {
    await output?.transactions.close();
  }
  if (finished && !request.dryRun) checkpoint(true, {});
  return {
    run: runId,
    dryRun: request.dryRun,
    finished,
    resumed: resuming,
    ...totals,
    recovered,
    seconds: Number(((Date.now() - started) / 1000).toFixed(3)),
    checkpoint: checkpoints.path,
  };
}

function chooseExperiments(
  stored: Experiment[],
  names: readonly string[] | undefined,
): Experiment[] {
  if (!names || names.length === 0) return stored;
  const known = new Map(stored.map((experiment) => [namespacedName(experiment), experiment]));
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0)
    throw new InvalidBackfillRequest([
      `no experiment in force named ${unknown.join(', ')} (known: ${[...known.keys()].join(', ') || 'none'})`,
    ]);
  return names.map((name) => known.get(name)!);
}

/**
 * The store a replay writes to, with the indexes the worker would make (a replay may be the first
 * to write to a store), or in a dry run a copy in memory of what it reads.
 */
async function learnerStore(db: Db, dryRun: boolean): Promise<LearnerStateStore> {
  const repository = new LearnerStateRepository(db);
  if (dryRun) return new MemoryLearnerStore(repository);
  await repository.ensureIndexes();
  return repository;
}

/** The replay's Kafka transactions, per progress partition: its own transactional ids and group. */
function replayWriter(
  config: Pick<AppConfig, 'KAFKA_CLIENT_ID' | 'ANALYTICS_TOPIC' | 'DLQ_TOPIC'>,
  runId: string,
): ChunkWriter {
  return {
    transactionalIdPrefix: `${config.KAFKA_CLIENT_ID}-replay-${runId}`,
    groupId: replayGroupId(config, runId),
    analyticsTopic: config.ANALYTICS_TOPIC,
    dlqTopic: config.DLQ_TOPIC,
  };
}

/**
 * The replay's Kafka transactions: its messages and its progress (committed as the offsets of a
 * consumer group of its own) land together, so a resumed replay knows exactly what is published.
 */
function replayTransactions(
  kafka: Kafka,
  config: AppConfig,
  writer: ChunkWriter,
  logger: pino.Logger,
): TransactionalOutput {
  return new TransactionalOutput({
    kafka,
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.KAFKA_CLIENT_ID}-replay-claim`,
    ...writer,
    logger,
  });
}
