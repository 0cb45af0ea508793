import { spawnSync } from 'node:child_process';
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
