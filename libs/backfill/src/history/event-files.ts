import { statSync } from 'node:fs';
import { readLines } from './read-lines';

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
