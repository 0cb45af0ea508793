import type { AppConfig, StoreConfig } from '@assigner/config';
import { namespacedName, parseIsoMicros, type Experiment } from '@assigner/domain';
import {
  createKafka,
  ensureTopics,
  EventBusDecoder,
  TransactionalOutput,
} from '@assigner/messaging';
import { OpenChunkTakeover } from '@assigner/backfill';
import {
  ExperimentRepository,
  LearnerStateRepository,
  OpenChunkRepository,
  type ChunkWriter,
} from '@assigner/persistence';
import { BatchAssigner, MemoryLearnerStore } from '@assigner/pipeline';
import type { InboundMessage, LearnerStateStore } from '@assigner/contracts';
import { SingleBar } from 'cli-progress';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type { Db } from 'mongodb';
import { appConfig, storeConfig, withStore } from '../io/cli-config';
import { UsageError } from '../usage-error';
import { expandEventPaths, readEventFiles } from './event-files';
import {
  CheckpointFile,
  checkpointKey,
  type ReplayCheckpoint,
  type ReplayProgress,
} from './replay-checkpoint';
import { addBatch, describeDifference, emptyTotals } from './replay-totals';
import { applyChunk, replayGroupId, type ReplayOutput, type ReplayRun } from './replay-run';
import { replayTopicRange } from './topic-range';
import { NOTHING_RECOVERED, takeOverOpenChunks, type Recovered } from './take-over-open-chunks';

export interface ReplayOptions {
  events?: string[];
  topic?: string;
  fromTime?: string;
  toTime?: string;
  experiment?: string[];
  dryRun?: boolean;
  publish: boolean;
  deadLetters?: boolean;
  checkpoint?: string;
  chunk: string;
}

interface Parsed {
  chunkSize: number;
  from?: number;
  to?: number;
}

function parseOptions(options: ReplayOptions): Parsed {
  const problems: string[] = [];
  if ((options.events === undefined) === (options.topic === undefined))
    problems.push('give --events FILE... or --topic T (one of them)');
  const time = (flag: string, value?: string) => {
    if (value === undefined) return undefined;
    const micros = parseIsoMicros(value);
    if (micros === undefined) problems.push(`${flag} ${value} is not an ISO-8601 date or time`);
    return micros;
  };
  const from = time('--from-time', options.fromTime);
  const to = time('--to-time', options.toTime);
  if (from !== undefined && to !== undefined && from >= to)
    problems.push('--from-time must be before --to-time');
  if (options.deadLetters && (options.topic !== undefined || !options.publish || options.dryRun))
    problems.push(
      '--dead-letters sends the invalid lines of --events files with the analytics messages: not with --topic (its worker dead-lettered them), --no-publish or --dry-run',
    );
  const chunkSize = Number(options.chunk);
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 1_000_000)
    problems.push(`--chunk must be a whole number from 1 to 1000000 (got ${options.chunk})`);
  if (problems.length > 0) throw new UsageError(problems);
  return { chunkSize, from, to };
}

function chooseExperiments(
  stored: Experiment[],
  names: readonly string[] | undefined,
): Experiment[] {
  if (!names || names.length === 0) return stored;
  const known = new Map(stored.map((experiment) => [namespacedName(experiment), experiment]));
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0)
    throw new UsageError([
      `no experiment in force named ${unknown.join(', ')} (known: ${[...known.keys()].join(', ') || 'none'})`,
    ]);
  return names.map((name) => known.get(name)!);
}

/**
 * `assigner replay`: applies history (files or a topic) to the real store with the worker's
 * engine, each event as of its own time. Idempotent: history already applied, by an earlier
 * replay or by the worker, decides nothing new. Each chunk's new assignments' messages are
 * published in one Kafka transaction with the replay's progress, committed once the chunk is
 * stored, so an interrupted replay resumed from its checkpoint publishes every message once.
 */
export async function replay(options: ReplayOptions): Promise<void> {
  const parsed = parseOptions(options);
  const files = options.events ? expandEventPaths(options.events) : undefined;
  const publishing = options.publish && !options.dryRun;
  // Kafka settings are needed (and checked) only to publish or to read a topic.
  const kafkaConfig = publishing || options.topic ? appConfig() : undefined;
  const config: StoreConfig = kafkaConfig ?? storeConfig();
  const logger = pino({ level: 'warn' }, pino.destination(2));

  await withStore(config, async (db) => {
    const stored = (await new ExperimentRepository(db).list()).filter(({ archived }) => !archived);
    const experiments = chooseExperiments(
      stored.map(({ experiment }) => experiment),
      options.experiment,
    );
    if (experiments.length === 0)
      process.stderr.write(
        'warning: no experiment in force: the replay only records what it learns\n',
      );

    const identity = {
      files,
      topic: options.topic,
      from: parsed.from,
      to: parsed.to,
      experiments: experiments.map(namespacedName),
      publish: publishing,
      db: config.MONGO_DB,
      analyticsTopic: publishing ? kafkaConfig?.ANALYTICS_TOPIC : undefined,
      // Left out when off, so that checkpoints written before the option still match.
      deadLetters: options.deadLetters || undefined,
    };
    const key = checkpointKey(identity);
    const checkpoints = new CheckpointFile(
      resolve(options.checkpoint ?? join('.assigner', `replay-${key}.json`)),
    );
    const previous = options.dryRun ? undefined : checkpoints.read(key);
    const resuming = previous !== undefined && !previous.done;
    const runId = resuming ? previous.runId : randomUUID();
    const startedAt = resuming ? previous.startedAt : new Date().toISOString();
    // Spread over empty totals, so that totals a checkpoint lacks (older versions) start at 0.
    const totals = {
      ...emptyTotals(experiments.map(namespacedName)),
      ...(resuming ? previous.totals : {}),
    };
    if (resuming)
      process.stderr.write(`resuming replay ${runId} from its checkpoint ${checkpoints.path}\n`);
    else if (!options.dryRun)
      process.stderr.write(`replay ${runId}; checkpoint ${checkpoints.path}\n`);

    const kafka = kafkaConfig && createKafka(kafkaConfig, logger, 'replay');
    const saveProgress = (progress: ReplayCheckpoint['progress']) =>
      checkpoints.write({
        version: 1,
        key,
        runId,
        startedAt,
        done: false,
        progress,
        totals: { ...totals },
      });
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
      );
      // Made while the first chunk is read and decided: only its publishing needs the topics.
      const partitions = kafkaConfig.TOPIC_PARTITIONS;
      topicsReady = ensureTopics(kafka, [
        {
          topic: kafkaConfig.ANALYTICS_TOPIC,
          setting: 'ANALYTICS_TOPIC',
          numPartitions: partitions,
        },
        ...(options.deadLetters
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
    // Written before the first chunk, so that the same command resumes this run whenever it stops.
    if (!options.dryRun && !resuming) saveProgress({});
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.stderr.write(
        '\ninterrupted: finishing the chunk in hand (Ctrl-C again to abandon it)\n',
      );
    };
    process.on('SIGINT', onSigint);

    const started = Date.now();
    const run: ReplayRun = {
      runId,
      assigner: new BatchAssigner(await learnerStore(db, options.dryRun === true)),
      experiments,
      accept: (event) =>
        (parsed.from === undefined || event.time >= parsed.from) &&
        (parsed.to === undefined || event.time < parsed.to),
      output,
      topicsReady,
      deadLetters: options.deadLetters === true,
      progressTopic: kafkaConfig?.ANALYTICS_TOPIC ?? '',
      totals,
      chunkSize: parsed.chunkSize,
      interrupted: () => interrupted,
      dryRun: options.dryRun === true,
      save: options.dryRun ? () => undefined : saveProgress,
    };
    let finished: boolean;
    try {
      if (files) finished = await replayFiles(run, files, resuming ? previous.progress : undefined);
      else if (kafka && kafkaConfig && options.topic)
        finished = await replayTopicRange(run, kafka, kafkaConfig, options.topic, {
          decoder: new EventBusDecoder({
            registryUrl: kafkaConfig.SCHEMA_REGISTRY_URL || undefined,
            logger,
          }),
        });
      else throw new Error('a topic replay without Kafka settings');
    } finally {
      process.removeListener('SIGINT', onSigint);
      await output?.transactions.close();
    }
    if (finished && !options.dryRun)
      checkpoints.write({
        version: 1,
        key,
        runId,
        startedAt,
        done: true,
        progress: {},
        totals: { ...totals },
      });

    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(describeDifference(totals, options.dryRun === true));
    process.stdout.write(
      `${JSON.stringify({
        run: runId,
        dryRun: options.dryRun === true,
        finished,
        resumed: resuming,
        ...totals,
        recovered,
        seconds: Number(seconds.toFixed(3)),
      })}\n`,
    );
    if (!finished) {
      process.stderr.write(`stopped early; the same command resumes from ${checkpoints.path}\n`);
      process.exitCode = 130;
    }
  });
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

/**
 * Files in order, in chunks. Progress is the number of lines done: in the checkpoint file and,
 * when publishing, as the committed offset of partition 0 of the analytics topic in the replay's
 * own consumer group, written in the same transaction as the chunk's messages.
 */
async function replayFiles(
  run: ReplayRun,
  files: readonly string[],
  /** What the earlier processes of the run that this one resumes checkpointed, if any. */
  checkpointed: ReplayProgress | undefined,
): Promise<boolean> {
  // Claiming fences an earlier process of this run and reads, stably, what it published. A new
  // run has no earlier process: its claim goes on while the first chunk is read.
  const claimed = run.output
    ? run.output.transactions.claim(run.progressTopic, 0)
    : Promise.resolve(0);
  claimed.catch(() => undefined);
  const skip = checkpointed?.lines ?? 0;
  const published = checkpointed === undefined ? 0 : await claimed;
  // Published past the checkpoint: by another writer that took over this run's unfinished chunk
  // (or by this run just before it stopped). Those lines are applied again under a source of
  // their own: what the chunk stored is then history already applied, which changes and
  // publishes nothing, and what it had not stored yet is applied now. Under the run's source,
  // the stored part would be re-emitted and published twice. Otherwise lines go on under the
  // source the checkpoint names, whose stored but unpublished changes are re-emitted.
  const positionSource =
    published > skip
      ? `replay:${run.runId}/${randomUUID().slice(0, 8)}`
      : (checkpointed?.source ?? `replay:${run.runId}`);
  const source = readEventFiles(files);
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format:
          'replay [{bar}] {percentage}% | {lines} lines | {rate} lines/s | ETA {eta_formatted}',
        stream: process.stderr,
      })
    : undefined;
  bar?.start(source.totalBytes, 0, { lines: 0, rate: 0 });
  const started = Date.now();
  let chunk: InboundMessage[] = [];
  let next = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    await claimed;
    const { result, deadLetters } = await applyChunk(
      run,
      { topic: run.progressTopic, partition: 0, nextOffset: next },
      chunk,
      (deadLetters) =>
        (run.deadLetters ? deadLetters : [])
          // Those of lines below the published progress went out with it.
          .filter(({ message }) => message.position.offset >= published)
          .map((deadLetter) => {
            const { file, line } = source.locate(deadLetter.message.position.offset);
            return {
              ...deadLetter,
              origin: { 'dlq-source-file': file, 'dlq-source-line': String(line) },
            };
          }),
    );
    addBatch(
      run.totals,
      chunk.length,
      result,
      run.output
        ? { analytics: result.analytics.length, deadLetters: deadLetters.length }
        : { analytics: 0, deadLetters: 0 },
    );
    run.save({ lines: next, source: positionSource });
    chunk = [];
    const seconds = (Date.now() - started) / 1000;
    bar?.update(source.bytesRead(), {
      lines: run.totals.lines,
      rate: Math.round(run.totals.lines / Math.max(seconds, 0.001)),
    });
  };
  for await (const { index, text } of source.lines) {
    next = index + 1;
    if (index < skip) continue;
    // Blank lines are skipped, not counted, as by simulate.
    if (text.trim() !== '')
      chunk.push({ value: text, position: { source: positionSource, offset: index } });
    // A chunk commits progress past what is published, or its commit would not tell takers it did.
    if (chunk.length >= run.chunkSize && next > published) {
      await flush();
      if (run.interrupted()) break;
    }
  }
  if (!run.interrupted()) await flush();
  bar?.stop();
  return !run.interrupted();
}
