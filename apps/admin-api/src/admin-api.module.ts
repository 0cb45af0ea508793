import { AppConfig, AppConfigModule, type AdminToken } from '@assigner/config';
import { LoggingModule } from '@assigner/observability';
import {
  AssignmentCountsQuery,
  CountSnapshotRepository,
  ExperimentRepository,
  LearnerAttributesRepository,
  LearnerStateRepository,
  MONGO_DB,
  MongoModule,
} from '@assigner/persistence';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { Db } from 'mongodb';
import { AdminHealthController } from './admin-health.controller';
import { AssignmentsController } from './assignments/assignments.controller';
import { ExplainController } from './assignments/explain.controller';
import { ExperimentCounts } from './assignments/experiment-counts';
import { StatsController } from './assignments/stats.controller';
import { AdminAuthGuard } from './auth/admin-auth.guard';
import { TokenVerifier } from './auth/token-verifier';
import { ExperimentsController } from './experiments/experiments.controller';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { LearnerAttributesController } from './learners/learner-attributes.controller';
import { MetricsController } from './metrics/metrics.controller';
import { SampleRatioMonitor } from './metrics/sample-ratio-monitor';

const overStore = <T>(make: (db: Db) => T) => ({ inject: [MONGO_DB], useFactory: make });

@Module({})
export class AdminApiModule {
  static register(config: AppConfig, tokens: readonly AdminToken[]): DynamicModule {
    return {
      module: AdminApiModule,
      imports: [AppConfigModule.register(config), LoggingModule, MongoModule, TerminusModule],
      controllers: [
        AdminHealthController,
        ExperimentsController,
        AssignmentsController,
        ExplainController,
        StatsController,
        MetricsController,
        LearnerAttributesController,
      ],
      providers: [
        { provide: ExperimentRepository, ...overStore((db) => new ExperimentRepository(db)) },
        { provide: LearnerStateRepository, ...overStore((db) => new LearnerStateRepository(db)) },
        {
          provide: LearnerAttributesRepository,
          ...overStore((db) => new LearnerAttributesRepository(db)),
        },
        { provide: AssignmentCountsQuery, ...overStore((db) => new AssignmentCountsQuery(db)) },
        {
          provide: CountSnapshotRepository,
          ...overStore((db) => new CountSnapshotRepository(db)),
        },
        ExperimentCounts,
        SampleRatioMonitor,
        { provide: TokenVerifier, useValue: new TokenVerifier(tokens) },
        { provide: APP_GUARD, useClass: AdminAuthGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
