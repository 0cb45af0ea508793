import {
  ConfigError,
  loadConfig,
  loadStoreConfig,
  type AppConfig,
  type StoreConfig,
} from '@assigner/config';
import { MongoClient, type Db } from 'mongodb';
import { UsageError } from '../usage-error';

function orUsage<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError([
      error.message,
      '(with the local services running, `npm run -s services -- env` prints the settings)',
    ]);
  }
}

/** The store settings (MONGO_URL, MONGO_DB); bad ones are a usage error naming them. */
export const storeConfig = (): StoreConfig => orUsage(() => loadStoreConfig(process.env));

/** Every setting, for commands that talk to Kafka too. */
export const appConfig = (): AppConfig => orUsage(() => loadConfig(process.env));

/** Runs `work` against the configured store, closing the client after. */
export async function withStore<T>(config: StoreConfig, work: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(config.MONGO_URL, { serverSelectionTimeoutMS: 5000 });
  try {
    return await work(client.db(config.MONGO_DB));
  } finally {
    await client.close();
  }
}
