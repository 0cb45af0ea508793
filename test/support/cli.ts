import { spawn, spawnSync } from 'node:child_process';
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
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'), ...args],
      {
        env,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer =
      interruptAfterMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export interface ReplaySummary {
  finished: boolean;
  resumed: boolean;
  lines: number;
  newAssignments: number;
  changedBuckets: number;
  published: number;
}
/** The JSON summary line `replay` ends its output with; a failed run throws with its stderr. */
export const replaySummaryOf = (run: AsyncRun): ReplaySummary => {
  if (run.status !== 0 && run.status !== 130)
    throw new Error(`replay failed (${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as ReplaySummary;
};
