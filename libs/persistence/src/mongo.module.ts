import { AppConfig } from '@assigner/config';
import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Db, MongoClient } from 'mongodb';

export const MONGO_DB = Symbol('MONGO_DB');

/** Pings this often; after this many failures in a row the client is rebuilt. */
const WATCH_EVERY_MS = 5000;
const FAILURES_BEFORE_RECONNECT = 3;

/**
 * Closes the client when the app stops, and watches it meanwhile. After a FerretDB restart the
 * driver was seen to stop trying (no socket open, every operation failing with the old
 * connection's error) for minutes; a client that keeps failing pings is closed and connected
 * again, which the driver supports on the same MongoClient and Db objects.
 */
@Injectable()
class MongoClientKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly logger = new Logger('MongoClientKeeper');

  constructor(private readonly client: MongoClient) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.watch(), WATCH_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.client.close();
  }

  private async watch(): Promise<void> {
    try {
      await this.client.db('admin').command({ ping: 1 }, { timeoutMS: 2000 });
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      if (this.failures < FAILURES_BEFORE_RECONNECT) return;
      this.failures = 0;
      this.logger.warn(
        `store unreachable for ${(WATCH_EVERY_MS * FAILURES_BEFORE_RECONNECT) / 1000}s (${(error as Error).message}); reconnecting`,
      );
      await this.client.close(true).catch(() => undefined);
      await this.client.connect().catch(() => undefined);
    }
  }
}

@Injectable()
export class MongoHealthIndicator {
  constructor(
    private readonly client: MongoClient,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'store'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    try {
      await this.client.db('admin').command({ ping: 1 }, { timeoutMS: 2000 });
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

/**
 * One MongoClient per process. The driver connects lazily and reconnects by itself, so a store
 * that is down at start makes the app unready rather than crashing it.
 */
@Global()
@Module({
  providers: [
    {
      provide: MongoClient,
      inject: [AppConfig],
      useFactory: (config: AppConfig): MongoClient =>
        new MongoClient(config.MONGO_URL, {
          serverSelectionTimeoutMS: 5000,
          appName: config.KAFKA_CLIENT_ID,
          // Polling, not the streaming hello: after a FerretDB restart a streaming monitor was
          // seen to stay on a dead connection for minutes, failing every operation.
          serverMonitoringMode: 'poll',
          heartbeatFrequencyMS: 2000,
        }),
    },
    {
      provide: MONGO_DB,
      inject: [MongoClient, AppConfig],
      useFactory: (client: MongoClient, config: AppConfig): Db => client.db(config.MONGO_DB),
    },
    MongoClientKeeper,
    HealthIndicatorService,
    MongoHealthIndicator,
  ],
  exports: [MongoClient, MONGO_DB, MongoHealthIndicator],
})
export class MongoModule {}

export const InjectDb = (): ParameterDecorator => Inject(MONGO_DB);
