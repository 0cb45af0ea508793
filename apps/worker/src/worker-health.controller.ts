import { KafkaBatchServer } from '@assigner/messaging';
import { MongoHealthIndicator } from '@assigner/persistence';
import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
} from '@nestjs/terminus';

@Controller('health')
export class WorkerHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: MongoHealthIndicator,
    private readonly server: KafkaBatchServer,
  ) {}

  /** Live: the process answers. Restart it only when this fails. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when the store answers a ping and this worker holds a place in its consumer group. */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.store.check('store'),
      () => {
        const indicator = this.indicators.check('consumerGroup');
        return this.server.hasJoinedGroup
          ? indicator.up()
          : indicator.down({ message: 'not in the consumer group yet' });
      },
    ]);
  }
}
