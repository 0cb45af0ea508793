import {
  InvalidBackfillRequest,
  replayHistory,
  type ReplayReporter,
  type ReplaySummary,
} from '@assigner/backfill';
import type { AppConfig, StoreConfig } from '@assigner/config';
import { parseIsoMicros } from '@assigner/domain';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { appConfig, storeConfig, withStore } from '../io/cli-config';
import { TerminalProgressBar } from '../io/progress-bar';
import { UsageError } from '../usage-error';
import { expandEventPaths } from './event-paths';

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

/**
 * `assigner replay`: the arguments, Ctrl-C, a progress bar and the summary around
 * `replayHistory` (libs/backfill), which does the work.
 */
export async function replay(options: ReplayOptions): Promise<void> {
  const parsed = parseOptions(options);
  const input = options.events
    ? { files: expandEventPaths(options.events) }
    : { topic: options.topic! };
  const dryRun = options.dryRun === true;
  // Kafka settings are needed (and checked) only to publish or to read a topic.
  const kafka: AppConfig | undefined =
    (options.publish && !dryRun) || options.topic ? appConfig() : undefined;
  const config: StoreConfig = kafka ?? storeConfig();

  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    process.stderr.write(
      '\ninterrupted: finishing the chunk in hand (Ctrl-C again to abandon it)\n',
    );
  };
  process.on('SIGINT', onSigint);
  let summary: ReplaySummary;
  try {
    summary = await withStore(config, (db) =>
      replayHistory(
        {
          input,
          from: parsed.from,
          to: parsed.to,
          experiments: options.experiment,
          dryRun,
          publish: options.publish,
          deadLetters: options.deadLetters === true,
          chunkSize: parsed.chunkSize,
          checkpointPath: (key) =>
            resolve(options.checkpoint ?? join('.assigner', `replay-${key}.json`)),
        },
        {
          db,
          dbName: config.MONGO_DB,
          kafka,
          logger: pino({ level: 'warn' }, pino.destination(2)),
          reporter: new ReplayProgress(options.events ? 'lines' : 'messages'),
          interrupt: interrupt.signal,
        },
      ),
    );
  } catch (error) {
    if (error instanceof InvalidBackfillRequest) throw new UsageError(error.problems);
    throw error;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }

  const { checkpoint, ...printed } = summary;
  process.stderr.write(describeDifference(summary));
  process.stdout.write(`${JSON.stringify(printed)}\n`);
  if (!summary.finished) {
    process.stderr.write(`stopped early; the same command resumes from ${checkpoint}\n`);
    process.exitCode = 130;
  }
}

/** The difference per experiment, for people (stderr). */
function describeDifference(summary: ReplaySummary): string {
  const verb = summary.dryRun ? 'would make' : 'made';
  const lines = [
    `lines ${summary.lines}: ${summary.enrollments} enrollments, ${summary.pageViews} page views, ${summary.ignored} ignored, ${summary.invalid} invalid, ${summary.filtered} outside the time range`,
    `the replay ${verb} ${summary.newAssignments} new assignments and ${summary.changedBuckets} bucket changes; ${summary.published} messages published, ${summary.deadLettered} invalid lines sent to the dead-letter topic`,
  ];
  for (const [experiment, difference] of Object.entries(summary.experiments))
    lines.push(
      `  ${experiment}: ${difference.newAssignments} new, ${difference.changedBuckets} changed`,
    );
  return `${lines.join('\n')}\n`;
}

/** Notices on stderr, and a progress bar with rate and ETA when stderr is a terminal. */
class ReplayProgress extends TerminalProgressBar implements ReplayReporter {
  constructor(unit: 'lines' | 'messages') {
    super(
      unit === 'lines'
        ? 'replay [{bar}] {percentage}% | {counted} lines | {rate} lines/s | ETA {eta_formatted}'
        : 'replay [{bar}] {percentage}% | {value}/{total} messages | {rate} msg/s | ETA {eta_formatted}',
    );
  }

  notice(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}
