import { AppConfig, AppConfigModule } from '@assigner/config';
import { createKafka, KafkaBatchServer } from '@assigner/messaging';
import { LoggingModule } from '@assigner/observability';
import { MongoModule } from '@assigner/persistence';
import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PinoLogger } from 'nestjs-pino';
import { WorkerHealthController } from './worker-health.controller';
import { IntakeService } from './intake.service';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [AppConfigModule.register(config), LoggingModule, MongoModule, TerminusModule],
      controllers: [WorkerHealthController],
      providers: [
        IntakeService,
        {
          provide: KafkaBatchServer,
          inject: [AppConfig, IntakeService, PinoLogger],
          useFactory: (cfg: AppConfig, intake: IntakeService, logger: PinoLogger) =>
            new KafkaBatchServer({
              kafka: createKafka(cfg, logger.logger, 'worker'),
              groupId: cfg.WORKER_GROUP_ID,
              topics: cfg.INPUT_TOPICS,
              handleBatch: (payload) => intake.handleBatch(payload),
              logger: logger.logger,
            }),
        },
      ],
    };
  }
}
