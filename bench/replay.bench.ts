// Lines per second of `assigner replay` from a file into the real store, against `simulate` on
// the same file (`npm run services -- start`, then `eval "$(npm run -s services -- env)"`), each
// the best of two runs:
// - replay --no-publish: reads, decides and stores (the store is empty at the start);
// - replay (publishing): the same, each chunk's messages in a Kafka transaction;
// - replay again: the same history a second time, which changes nothing;
// - simulate: the same pipeline in memory, no services.
import { ExperimentRepository } from '@assigner/persistence';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import {
  BENCH_EXPERIMENTS,
  benchExperiments,
  syntheticTrackingLog,
} from '../workloads/synthetic-log';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
const { KAFKA_BROKERS, MONGO_URL } = process.env;
if (!KAFKA_BROKERS || !MONGO_URL) {
  throw new Error('set KAFKA_BROKERS and MONGO_URL (eval "$(npm run -s services -- env)")');
}
const lines = Number(process.argv[2] ?? 100_000);
const chunk = process.argv[3] ?? '100000';
const dir = join(ROOT, '.cache', 'bench');
mkdirSync(dir, { recursive: true });
const events = join(dir, `replay-${lines}.log`);
writeFileSync(
  events,
  `${[...syntheticTrackingLog({ lines, users: Math.ceil(lines / 10) })].join('\n')}\n`,
);
const experimentsFile = join(dir, 'experiments.json');
writeFileSync(experimentsFile, JSON.stringify(BENCH_EXPERIMENTS));
const experiments = benchExperiments();

function timed(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const rate = (seconds: number) =>
  `${seconds.toFixed(2)} s = ${Math.round(lines / seconds)} lines/s`;

async function main(): Promise<void> {
  const mongo = new MongoClient(MONGO_URL!);
  const replays: { label: string; first: number; again: number }[] = [];
  // Each figure is the best of two runs, as simulate's: the first replay of each into a store of
  // its own, then the same replay again into that store.
  for (const publish of [false, true]) {
    const runs: { first: number; again: number }[] = [];
    for (const attempt of [1, 2]) {
      const id = `bench_replay_${randomBytes(3).toString('hex')}`;
      const db = mongo.db(id);
      for (const experiment of experiments)
        await new ExperimentRepository(db).save(experiment, { actor: 'bench' });
      const env = { ...process.env, MONGO_DB: id, ANALYTICS_TOPIC: `${id}-analytics` };
      const args = [
        'replay',
        '--events',
        events,
        '--chunk',
        chunk,
        '--checkpoint',
        join(dir, `${id}-${attempt}.json`),
      ];
      if (!publish) args.push('--no-publish');
      runs.push({ first: timed(args, env), again: timed(args, env) });
      await db.dropDatabase();
    }
    replays.push({
      label: `replay ${publish ? '(publishing)' : '--no-publish'}, ${lines} lines, chunk ${chunk}`,
      first: Math.min(...runs.map((run) => run.first)),
      again: Math.min(...runs.map((run) => run.again)),
    });
  }
  await mongo.close();
  const simulate = Math.min(
    ...[0, 1].map(() =>
      timed([
        'simulate',
        '--events',
        events,
        '--experiments',
        experimentsFile,
        '--assignments-out',
        join(dir, 'replay-assignments.jsonl'),
        '--analytics-out',
        join(dir, 'replay-analytics.jsonl'),
      ]),
    ),
  );
  // Rates are lines per second, so a replay's share of simulate's rate is simulate's time over its own.
  const share = (seconds: number) =>
    `${Math.round((100 * simulate) / seconds)}% of simulate's rate`;
  const report = replays.map(
    ({ label, first, again }) =>
      `${label}: ${rate(first)} (${share(first)}); again (no change): ${rate(again)} (${share(again)})`,
  );
  report.push(`simulate, same file: ${rate(simulate)}`);
  process.stdout.write(`${report.join('\n')}\n`);
}

void main();
