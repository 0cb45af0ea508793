// Time `assigner simulate` over a 100k-line synthetic tracking log, end to end through the CLI.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../workloads/synthetic-log';

const ROOT = join(__dirname, '..', '..');
const dir = join(ROOT, '.cache', 'bench');
mkdirSync(dir, { recursive: true });
const lines = Number(process.argv[2] ?? 100_000);
const events = join(dir, `synthetic-${lines}.log`);
writeFileSync(
  events,
  `${[...syntheticTrackingLog({ lines, users: Math.ceil(lines / 10) })].join('\n')}\n`,
);
const experiments = join(dir, 'experiments.json');
writeFileSync(experiments, JSON.stringify(BENCH_EXPERIMENTS));

const runs: number[] = [];
for (let run = 0; run < 3; run++) {
  const started = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'),
      'simulate',
      '--events',
      events,
      '--experiments',
      experiments,
      '--assignments-out',
      join(dir, 'assignments.jsonl'),
      '--analytics-out',
      join(dir, 'analytics.jsonl'),
      '--dlq-out',
      join(dir, 'dlq.jsonl'),
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`simulate failed: ${result.stderr}`);
  runs.push(Number(process.hrtime.bigint() - started) / 1e9);
  if (run === 0) process.stdout.write(result.stderr);
}
const best = Math.min(...runs);
process.stdout.write(
  `simulate, ${lines} lines: ${runs.map((s) => `${s.toFixed(2)} s`).join(', ')}; best ${best.toFixed(2)} s = ${Math.round(lines / best)} lines/s (process start included)\n`,
);
