import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const fixture = (...parts: string[]): string => join(ROOT, 'test', 'fixtures', ...parts);

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `assigner` CLI as a user would (the unit project's global setup builds it). */
export function assigner(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = process.env,
): CliRun {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'), ...args],
    {
      input,
      env,
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface AsyncRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without blocking; with `interruptAfterMs`, sends it SIGINT then. */
export function assignerAsync(
  args: string[],
  env: NodeJS.ProcessEnv,
  interruptAfterMs?: number,
): Promise<AsyncRun> {
  const run = startAssigner(args, env);
  const timer =
    interruptAfterMs === undefined
      ? undefined
      : setTimeout(() => run.child.kill('SIGINT'), interruptAfterMs);
  return run.done.finally(() => clearTimeout(timer));
}

/** Starts the built CLI; `done` resolves when it exits, however it does. */
export function startAssigner(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<AsyncRun> } {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'), ...args],
    { env },
  );
  const done = new Promise<AsyncRun>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, done };
}

export interface ReplaySummary {
  finished: boolean;
  resumed: boolean;
  lines: number;
  newAssignments: number;
  changedBuckets: number;
  published: number;
  /** What it published that other replays stored but did not commit. */
  recovered: { chunks: number; messages: number; deadLetters: number };
}
/** The JSON summary line `replay` ends its output with; a failed run throws with its stderr. */
export const replaySummaryOf = (run: AsyncRun): ReplaySummary => {
  if (run.status !== 0 && run.status !== 130)
    throw new Error(`replay failed (${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as ReplaySummary;
};
