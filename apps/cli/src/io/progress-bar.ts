import { SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr when it is a terminal (nothing otherwise), with the rate of what is
 * counted. `format` is cli-progress's, with `{counted}` and `{rate}` available.
 */
export class TerminalProgressBar {
  private readonly bar?: SingleBar;
  private started = Date.now();

  constructor(format: string) {
    if (process.stderr.isTTY) this.bar = new SingleBar({ format, stream: process.stderr });
  }

  begin(total: number): void {
    this.started = Date.now();
    this.bar?.start(total, 0, { counted: 0, rate: 0 });
  }

  /** `done` of the total, and how many of what the rate is of were counted so far. */
  advance(done: number, counted: number): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    this.bar?.update(done, { counted, rate: Math.round(counted / seconds) });
  }

  end(): void {
    this.bar?.stop();
  }
}
