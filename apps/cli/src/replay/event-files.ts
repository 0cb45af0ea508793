import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readLines } from '../io/read-lines';
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

export interface EventLine {
  /** 0-based across all the files, blank lines included: the replay's position. */
  index: number;
  text: string;
}

/**
 * Every line of the files in order, how many bytes of them were read (for progress), and which
 * file and line (1-based) a line read so far came from (for dead letters).
 */
export function readEventFiles(files: readonly string[]): {
  lines: AsyncIterable<EventLine>;
  totalBytes: number;
  bytesRead: () => number;
  locate: (index: number) => { file: string; line: number };
} {
  const sizes = files.map((file) => statSync(file).size);
  let finishedBytes = 0;
  let current: { bytesRead: () => number } | undefined;
  /** The index of each opened file's first line. */
  const firstIndexes: number[] = [];
  async function* lines(): AsyncGenerator<EventLine> {
    let index = 0;
    for (const [fileIndex, file] of files.entries()) {
      firstIndexes.push(index);
      const source = readLines(file);
      current = source;
      for await (const text of source.lines) yield { index: index++, text };
      finishedBytes += sizes[fileIndex]!;
      current = undefined;
    }
  }
  return {
    lines: lines(),
    totalBytes: sizes.reduce((sum, size) => sum + size, 0),
    bytesRead: () => finishedBytes + (current?.bytesRead() ?? 0),
    locate: (index) => {
      let fileIndex = firstIndexes.length - 1;
      while (fileIndex > 0 && firstIndexes[fileIndex]! > index) fileIndex -= 1;
      return { file: files[fileIndex]!, line: index - firstIndexes[fileIndex]! + 1 };
    },
  };
}
