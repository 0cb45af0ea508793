import type { OpenChunkTakeover } from '@assigner/backfill';
import type { OnModuleDestroy } from '@nestjs/common';
import type { PinoLogger } from 'nestjs-pino';

/** How often the worker looks for chunks that replays stored but left uncommitted. */
export const OPEN_CHUNK_SWEEP_MS = 10_000;

/**
 * Publishes, while the worker runs, what replays stored but did not commit (a replay killed or
 * failed mid-chunk and never run again): so that every stored change has its message even when
 * nothing but time follows. The worker's own batches need none of this: their input is
 * delivered again until their transaction commits.
 */
export class OpenChunkSweeper implements OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly takeover: OpenChunkTakeover,
    private readonly logger: PinoLogger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, OPEN_CHUNK_SWEEP_MS);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** An outage is waited out: the next sweep tries again. */
  private async sweep(): Promise<void> {
    try {
      const report = await this.takeover.takeOver();
      if (report.published > 0)
        this.logger.info(
          { chunks: report.published, messages: report.messages, deadLetters: report.deadLetters },
          'published what replays stored but did not commit',
        );
    } catch (error) {
      this.logger.warn({ err: error }, 'could not take over open chunks; trying again later');
    }
  }
}
