import { MongoHealthIndicator } from '@assigner/persistence';
import { Controller, Get } from '@nestjs/common';
import { Public } from './auth/access';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';

@Public()
@Controller('health')
export class AdminHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly store: MongoHealthIndicator,
  ) {}

  /** Ready when the store answers: every route reads or writes it. */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.store.check('store')]);
  }
}
