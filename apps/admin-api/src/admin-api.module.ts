import { AppConfig, AppConfigModule } from '@assigner/config';
import { LoggingModule } from '@assigner/observability';
import { MongoModule } from '@assigner/persistence';
import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AdminHealthController } from './admin-health.controller';

@Module({})
export class AdminApiModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AdminApiModule,
      imports: [AppConfigModule.register(config), LoggingModule, MongoModule, TerminusModule],
      controllers: [AdminHealthController],
    };
  }
}
