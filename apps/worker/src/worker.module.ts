import { AppConfig, AppConfigModule } from '@assigner/config';
import {
  createKafka,
  EventBusDecoder,
  KafkaBatchServer,
  TransactionalOutput,
} from '@assigner/messaging';
import { LoggingModule } from '@assigner/observability';
import { OpenChunkTakeover } from '@assigner/backfill';
import {
  LearnerStateRepository,
  MONGO_DB,
  MongoModule,
  OpenChunkRepository,
} from '@assigner/persistence';
import { Controller, Get, Header, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Db } from 'mongodb';
import { PinoLogger } from 'nestjs-pino';
import { AssignmentBatchHandler } from './assignment-batch.handler';
import { ExperimentCatalog } from './experiment-catalog.service';
import { outputTopics } from './worker-topics';
import { OpenChunkSweeper } from './open-chunk-sweeper.service';
import { WorkerHealthController } from './worker-health.controller';
import { WorkerMetrics } from './worker-metrics';

@Controller('metrics')
class MetricsController {
  constructor(private readonly metrics: WorkerMetrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [AppConfigModule.register(config), LoggingModule, MongoModule, TerminusModule],
      controllers: [WorkerHealthController, MetricsController],
      providers: [
        ExperimentCatalog,
        WorkerMetrics,
        {
          provide: LearnerStateRepository,
          inject: [MONGO_DB, AppConfig],
          useFactory: (db: Db, cfg: AppConfig) =>
            new LearnerStateRepository(db, {
              cacheSize: cfg.WORKER_STATE_CACHE_LEARNERS,
              presumeNewLearners: true,
            }),
        },
        {
          provide: TransactionalOutput,
          inject: [AppConfig, PinoLogger],
          useFactory: (cfg: AppConfig, logger: PinoLogger) =>
            new TransactionalOutput({
              kafka: createKafka(cfg, logger.logger, 'worker-producer'),
              brokers: cfg.KAFKA_BROKERS,
              clientId: `${cfg.KAFKA_CLIENT_ID}-worker-claim`,
              transactionalIdPrefix: `${cfg.KAFKA_CLIENT_ID}-${cfg.WORKER_GROUP_ID}`,
              groupId: cfg.WORKER_GROUP_ID,
              analyticsTopic: cfg.ANALYTICS_TOPIC,
              dlqTopic: cfg.DLQ_TOPIC,
              recreateTopics: outputTopics(cfg),
              logger: logger.logger,
            }),
        },
        {
          provide: OpenChunkSweeper,
          inject: [MONGO_DB, LearnerStateRepository, AppConfig, PinoLogger],
          useFactory: (
            db: Db,
            states: LearnerStateRepository,
            cfg: AppConfig,
            logger: PinoLogger,
          ) =>
            new OpenChunkSweeper(
              new OpenChunkTakeover(new OpenChunkRepository(db), states, {
                kafka: createKafka(cfg, logger.logger, 'worker-takeover'),
                brokers: cfg.KAFKA_BROKERS,
                clientId: `${cfg.KAFKA_CLIENT_ID}-worker-takeover`,
                topicPartitions: cfg.TOPIC_PARTITIONS,
                logger: logger.logger,
              }),
              logger,
            ),
        },
        {
          provide: EventBusDecoder,
          inject: [AppConfig, PinoLogger],
          useFactory: (cfg: AppConfig, logger: PinoLogger) =>
            new EventBusDecoder({
              registryUrl: cfg.SCHEMA_REGISTRY_URL || undefined,
              logger: logger.logger,
            }),
        },
        {
          provide: AssignmentBatchHandler,
          inject: [
            LearnerStateRepository,
            ExperimentCatalog,
            TransactionalOutput,
            EventBusDecoder,
            WorkerMetrics,
          ],
          useFactory: (
            store: LearnerStateRepository,
            catalog: ExperimentCatalog,
            output: TransactionalOutput,
            decoder: EventBusDecoder,
            metrics: WorkerMetrics,
          ) => new AssignmentBatchHandler(store, catalog, output, decoder, metrics),
        },
        {
          provide: KafkaBatchServer,
          inject: [AppConfig, AssignmentBatchHandler, TransactionalOutput, PinoLogger],
          useFactory: (
            cfg: AppConfig,
            handler: AssignmentBatchHandler,
            output: TransactionalOutput,
            logger: PinoLogger,
          ) =>
            new KafkaBatchServer({
              kafka: createKafka(cfg, logger.logger, 'worker'),
              groupId: cfg.WORKER_GROUP_ID,
              topics: cfg.INPUT_TOPICS,
              handleBatch: (payload) => handler.handle(payload),
              partitionsConsumedConcurrently: cfg.WORKER_PARTITION_CONCURRENCY,
              batchMaxBytes: cfg.WORKER_BATCH_MAX_BYTES,
              logger: logger.logger,
              afterStop: () => output.close(),
              onGroupJoin: () => output.releaseAll(),
            }),
        },
      ],
    };
  }
}
