import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../usage-error';

/**
 * The event files named, in the order given; a directory stands for the files directly in it,
 * in name order (hidden files left out), as log rotation names them (tracking.log-20260301.gz, …).
 */
export function expandEventPaths(paths: readonly string[]): string[] {
  const problems: string[] = [];
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      problems.push(`cannot read events ${path}: ${(error as Error).message}`);
      continue;
    }
    if (!isDirectory) files.push(resolve(path));
    else
      files.push(
        ...readdirSync(path)
          .filter((name) => !name.startsWith('.') && statSync(join(path, name)).isFile())
          .sort()
          .map((name) => resolve(path, name)),
      );
  }
  if (problems.length > 0) throw new UsageError(problems);
  if (files.length === 0) throw new UsageError([`no event files in ${paths.join(', ')}`]);
  return files;
}
