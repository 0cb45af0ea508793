import { AppConfig } from '@assigner/config';
import { LearnerAttributesTable, type Experiment } from '@assigner/domain';
import { ExperimentRepository, InjectDb, LearnerAttributesRepository } from '@assigner/persistence';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { backOff } from 'exponential-backoff';
import type { Db } from 'mongodb';
import { PinoLogger } from 'nestjs-pino';

/**
 * What decisions read from the store besides learners: the experiment definitions in force and
 * the learner attributes of the last LMS export loaded, re-read every EXPERIMENTS_REFRESH_MS so
 * that changes apply to decisions made after them without a restart (the attributes only when a
 * new export was loaded). A failed refresh keeps the last ones read.
 */
@Injectable()
export class ExperimentCatalog implements OnModuleDestroy {
  private experiments: Experiment[] | undefined;
  private signature = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly repository: ExperimentRepository;
  private readonly attributeRepository: LearnerAttributesRepository;
  private attributes = new LearnerAttributesTable([]);
  private attributesImport: string | null = null;

  constructor(
    @InjectDb() db: Db,
    private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    this.repository = new ExperimentRepository(db);
    this.attributeRepository = new LearnerAttributesRepository(db);
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

  /** Staff and superusers as the last LMS export loaded says. */
  learnerAttributes(): LearnerAttributesTable {
    return this.attributes;
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
      const latest = await this.attributeRepository.latestImportId();
      if (latest !== this.attributesImport) {
        this.attributes = new LearnerAttributesTable(await this.attributeRepository.all());
        this.attributesImport = latest;
        this.logger.info(
          { import: latest, learners: this.attributes.size },
          'learner attributes loaded',
        );
      }
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
