import 'reflect-metadata';
import { errorText } from '@assigner/messaging';
import { Command, CommanderError, Option } from 'commander';
import { bucketOne, bucketStdin } from './commands/bucket.command';
import { applyExperiments, getExperiment, listExperiments } from './commands/experiments.command';
import { republish, type RepublishOptions } from './commands/republish.command';
import { simulate } from './commands/simulate.command';
import { findUsernames } from './commands/usernames.command';
import { importLearnerAttributes, listAttributeImports } from './commands/learners.command';
import { replay, type ReplayOptions } from './replay/replay.command';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './usage-error';

function program(): Command {
  const root = new Command('assigner')
    .description(
      'Open edX experiment bucketing: the same buckets as ExperimentWaffleFlag, from the event stream',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    });

  root
    .command('bucket')
    .description(
      "print the bucket of USERNAME in GROUP of COUNT buckets (edx-platform's stable_bucketing_hash_group)",
    )
    .argument('[group]')
    .argument('[count]')
    .argument('[username]')
    .option(
      '--stdin',
      'read JSON lines {"group","count","username"} and write each back with "bucket" added',
    )
    .action(
      async (group?: string, count?: string, username?: string, options?: { stdin?: boolean }) => {
        if (options?.stdin) {
          if (group !== undefined)
            throw new UsageError(['bucket --stdin takes no positional arguments']);
          process.exitCode = await bucketStdin();
          return;
        }
        if (group === undefined || count === undefined || username === undefined) {
          throw new UsageError(['bucket needs GROUP COUNT USERNAME, or --stdin']);
        }
        bucketOne(group, count, username);
      },
    );

  root
    .command('usernames')
    .description('print usernames that land in one bucket, to pick test accounts')
    .requiredOption('--group <group>', 'bucketing group, e.g. course_experience.animated_exy')
    .requiredOption('--count <count>', 'number of buckets')
    .requiredOption('--bucket <bucket>', 'the bucket wanted')
    .option('-n <n>', 'how many usernames', '10')
    .option('--prefix <prefix>', 'username prefix', 'test_')
    .action(
      (options: { group: string; count: string; bucket: string; n: string; prefix: string }) =>
        findUsernames(options),
    );

  root
    .command('simulate')
    .description(
      'run an event log through the assignment pipeline offline, in order, with no services',
    )
    .requiredOption('--events <file>', 'tracking-log or NDJSON file, plain or gzip; - for stdin')
    .requiredOption('--experiments <file>', 'experiments file {"experiments": [...]}')
    .requiredOption('--assignments-out <file>', 'final assignments, one JSON line each')
    .requiredOption(
      '--analytics-out <file>',
      'analytics messages in emission order, one JSON line each',
    )
    .addOption(new Option('--dlq-out <file>', 'invalid input lines with their reasons'))
    .option(
      '--learner-attributes <file>',
      "an LMS export of auth_user's id, is_staff, is_superuser (CSV or tab-separated), as `learners import` loads",
    )
    .action(
      async (options: {
        events: string;
        experiments: string;
        assignmentsOut: string;
        analyticsOut: string;
        dlqOut?: string;
        learnerAttributes?: string;
      }) => {
        await simulate(options);
      },
    );

  root
    .command('replay')
    .description(
      'apply history (files or a topic) to the real store as the worker would, each event as of its own time; idempotent and resumable',
    )
    .option(
      '--events <paths...>',
      'tracking-log/NDJSON files (plain or gzip), in order; a directory stands for its files in name order',
    )
    .option('--topic <topic>', 'a topic to read from its beginning to its end at the start')
    .option('--from-time <iso>', 'only events at or after this time')
    .option('--to-time <iso>', 'only events before this time')
    .option('--experiment <names...>', 'decide only these experiments (default: all in force)')
    .option('--dry-run', 'write and publish nothing; print the difference the replay would make')
    .option('--no-publish', 'store the results but publish no analytics messages')
    .option(
      '--dead-letters',
      "send the files' invalid lines to DLQ_TOPIC with their file and line (once per run)",
    )
    .option('--checkpoint <file>', 'where progress is kept (default .assigner/replay-<key>.json)')
    .option('--chunk <lines>', 'lines applied and published together', '100000')
    .action((options: ReplayOptions) => replay(options));

  root
    .command('republish')
    .description(
      'publish the stored assignments of experiments as analytics messages (same messageIds) to a backfill topic',
    )
    .requiredOption('--experiment <names...>', 'namespaced experiment names')
    .requiredOption('--topic <topic>', 'the backfill topic (created if missing)')
    .option('--since <iso>', 'only assignments whose bucket was set at or after this time')
    .option('--chunk <messages>', 'messages per Kafka transaction', '1000')
    .action((options: RepublishOptions) => republish(options));

  const experiments = root
    .command('experiments')
    .description('manage the experiment definitions in the store (MONGO_URL, MONGO_DB)');
  experiments
    .command('apply')
    .description('validate a file {"experiments": [...]} and store it; a bad file changes nothing')
    .requiredOption('-f, --file <file>', 'experiments file')
    .action((options: { file: string }) => applyExperiments(options.file));
  experiments
    .command('list')
    .description('print every stored definition, as an experiments file')
    .action(() => listExperiments());
  experiments
    .command('get')
    .description('print one stored definition with its revision')
    .argument('<name>', 'namespaced name, e.g. course_experience.animated_exy')
    .action((name: string) => getExperiment(name));

  const learners = root
    .command('learners')
    .description('what the LMS knows of learners that events do not say: staff and superusers');
  learners
    .command('import')
    .description(
      'load an LMS export of auth_user (id, is_staff, is_superuser; CSV or tab-separated) into the store, replacing the last one; the flag rules staff and superusers decide on it',
    )
    .requiredOption('-f, --file <file>', 'the export')
    .action((options: { file: string }) => importLearnerAttributes(options.file));
  learners
    .command('imports')
    .description('print every export loaded, newest first (who, when, what changed)')
    .action(() => listAttributeImports());

  return root;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`assigner: ${error.message}\n`);
      return EXIT_USAGE;
    }
    // One line a user can act on; the stack only when asked for.
    process.stderr.write(
      `assigner: ${errorText(error)}\n${process.env.ASSIGNER_DEBUG ? `${(error as Error).stack}\n` : ''}`,
    );
    return EXIT_FAILURE;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
