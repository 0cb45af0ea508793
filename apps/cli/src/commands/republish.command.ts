import { republishAssignments } from '@assigner/backfill';
import { parseIsoMicros } from '@assigner/domain';
import pino from 'pino';
import { appConfig, withStore } from '../io/cli-config';
import { TerminalProgressBar } from '../io/progress-bar';
import { UsageError } from '../usage-error';

export interface RepublishOptions {
  experiment: string[];
  topic: string;
  since?: string;
  chunk: string;
}

/**
 * `assigner republish`: the arguments, a progress bar and the summary around
 * `republishAssignments` (libs/backfill), which does the work.
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
  const config = appConfig();
  const summary = await withStore(config, (db) =>
    republishAssignments(
      { experiments: options.experiment, topic: options.topic, since, chunkSize },
      {
        db,
        kafka: config,
        logger: pino({ level: 'warn' }, pino.destination(2)),
        reporter: new TerminalProgressBar(
          'republish [{bar}] {percentage}% | {counted} messages | {rate} msg/s | ETA {eta_formatted}',
        ),
      },
    ),
  );
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
