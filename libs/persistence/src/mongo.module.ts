import { AppConfig } from '@assigner/config';
import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Db, MongoClient } from 'mongodb';

export const MONGO_DB = Symbol('MONGO_DB');

/** Ensures the client is closed when the app stops, so shutdown leaves no open sockets. */
@Injectable()
class MongoClientCloser implements OnApplicationShutdown {
  constructor(private readonly client: MongoClient) {}
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
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
        }),
    },
    {
      provide: MONGO_DB,
      inject: [MongoClient, AppConfig],
      useFactory: (client: MongoClient, config: AppConfig): Db => client.db(config.MONGO_DB),
    },
    MongoClientCloser,
    HealthIndicatorService,
    MongoHealthIndicator,
  ],
  exports: [MongoClient, MONGO_DB, MongoHealthIndicator],
})
export class MongoModule {}

export const InjectDb = (): ParameterDecorator => Inject(MONGO_DB);
