import { AppConfig } from '@assigner/config';
import type { Experiment } from '@assigner/domain';
import { ExperimentRepository, InjectDb } from '@assigner/persistence';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { backOff } from 'exponential-backoff';
import type { Db } from 'mongodb';
import { PinoLogger } from 'nestjs-pino';

/**
 * The experiment definitions in force, re-read from the store every EXPERIMENTS_REFRESH_MS so
 * that changes apply to decisions made after them without a restart. A failed refresh keeps the
 * last definitions read.
 */
@Injectable()
export class ExperimentCatalog implements OnModuleDestroy {
  private experiments: Experiment[] | undefined;
  private signature = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly repository: ExperimentRepository;

  constructor(
    @InjectDb() db: Db,
    private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    this.repository = new ExperimentRepository(db);
  }

  /** Reads the definitions once (retrying until the store answers), then keeps them fresh. */
  async start(): Promise<void> {
    await backOff(
      async () => {
        if (!(await this.refresh())) throw new Error('experiment definitions not read yet');
      },
      { numOfAttempts: Infinity, startingDelay: 250, maxDelay: 2_000 },
    );
    this.timer = setInterval(() => void this.refresh(), this.config.EXPERIMENTS_REFRESH_MS);
  }

  current(): Experiment[] {
    if (!this.experiments) throw new Error('experiments not loaded yet');
    return this.experiments;
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<boolean> {
    try {
      const stored = await this.repository.list();
      const signature = stored
        .map(
          ({ experiment, revision, archived }) =>
            `${experiment.namespace}.${experiment.name}@${revision}${archived ? ' (archived)' : ''}`,
        )
        .join(',');
      if (signature !== this.signature) {
        this.logger.info({ experiments: signature }, 'experiment definitions loaded');
        this.signature = signature;
      }
      this.experiments = stored
        .filter(({ archived }) => !archived)
        .map(({ experiment }) => experiment);
      return true;
    } catch (error) {
      this.logger.warn(
        { err: error },
        'could not refresh experiment definitions; keeping the last ones',
      );
      return false;
    }
  }
}
