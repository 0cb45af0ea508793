import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

/** Writes one JSON value per line to a file ("-" for stdout), respecting back-pressure. */
export class JsonLinesWriter {
  private readonly stream: WriteStream | NodeJS.WriteStream;

  constructor(path: string) {
    this.stream = path === '-' ? process.stdout : createWriteStream(path);
  }

  async write(value: unknown): Promise<void> {
    if (!this.stream.write(`${JSON.stringify(value)}\n`)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.stream === process.stdout) return;
    const stream = this.stream;
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
}
