import { plainToInstance, Transform } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  ValidateIf,
  validateSync,
  type ValidationError,
} from 'class-validator';

const splitList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0)
    : value;

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The settings of commands that only talk to the store (e.g. `assigner experiments`). */
export class StoreConfig {
  @IsString()
  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'must be a mongodb:// or mongodb+srv:// URL' })
  MONGO_URL = '';

  @Matches(/^[a-zA-Z0-9_-]{1,63}$/, {
    message: 'must be a database name (letters, digits, _ or -)',
  })
  MONGO_DB = 'experiment_assigner';
}

/**
 * Every setting the apps read, from environment variables. The same names serve the local
 * services started by `npm start` and the docker-compose setup.
 */
export class AppConfig extends StoreConfig {
  @Transform(splitList)
  @ArrayNotEmpty({ message: 'must list at least one broker as host:port' })
  @Matches(/^[^\s:,]+:\d{1,5}$/, {
    each: true,
    message: 'must be a comma-separated list of host:port',
  })
  KAFKA_BROKERS: string[] = [];

  /** A Confluent-compatible schema registry, for event-bus (Avro) input; empty: none. */
  @Matches(/^(https?:\/\/\S+)?$/, {
    message:
      'must be an http(s) URL of a Confluent-compatible registry API, e.g. http://127.0.0.1:18081/apis/ccompat/v7',
  })
  SCHEMA_REGISTRY_URL = '';

  @Matches(/^[a-zA-Z0-9._-]{1,100}$/, { message: 'must be a Kafka client id' })
  KAFKA_CLIENT_ID = 'experiment-assigner';

  @Matches(/^[a-zA-Z0-9._-]{1,200}$/, { message: 'must be a Kafka consumer group id' })
  WORKER_GROUP_ID = 'experiment-assigner-worker';

  @Transform(splitList)
  @ArrayNotEmpty({ message: 'must list at least one topic' })
  @Matches(TOPIC_NAME, { each: true, message: 'must be a comma-separated list of topic names' })
  INPUT_TOPICS: string[] = ['openedx.tracking-log'];

  @Matches(TOPIC_NAME, { message: 'must be a topic name' })
  ANALYTICS_TOPIC = 'experiment-assigner.analytics';

  @Matches(TOPIC_NAME, { message: 'must be a topic name' })
  DLQ_TOPIC = 'experiment-assigner.dlq';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number from 1 to 10000' })
  @Min(1, { message: 'must be a whole number from 1 to 10000' })
  @Max(10000, { message: 'must be a whole number from 1 to 10000' })
  TOPIC_PARTITIONS = 6;

  @IsString()
  ADMIN_API_HOST = '127.0.0.1';

  @Transform(toInt)
  @IsInt({ message: 'must be a port number' })
  @Min(0, { message: 'must be a port number' })
  @Max(65535, { message: 'must be a port number' })
  ADMIN_API_PORT = 3000;

  /** `name:role:secret,...`; parsed and checked by the admin API at start (parseAdminTokens). */
  @IsString()
  ADMIN_API_TOKENS = '';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of bytes from 1024 to 16777216' })
  @Min(1024, { message: 'must be a whole number of bytes from 1024 to 16777216' })
  @Max(16_777_216, { message: 'must be a whole number of bytes from 1024 to 16777216' })
  ADMIN_API_MAX_BODY_BYTES = 1_048_576;

  @IsString()
  WORKER_HTTP_HOST = '127.0.0.1';

  @Transform(toInt)
  @IsInt({ message: 'must be a port number' })
  @Min(0, { message: 'must be a port number' })
  @Max(65535, { message: 'must be a port number' })
  WORKER_HTTP_PORT = 9464;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds from 100 to 600000' })
  @Min(100, { message: 'must be a whole number of milliseconds from 100 to 600000' })
  @Max(600_000, { message: 'must be a whole number of milliseconds from 100 to 600000' })
  EXPERIMENTS_REFRESH_MS = 2000;

  /**
   * Input partitions a worker decides at once. More fill the store's round trips of keyed input
   * better, but unkeyed input's learners, spread over partitions, then conflict more (README).
   */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number from 1 to 64' })
  @Min(1, { message: 'must be a whole number from 1 to 64' })
  @Max(64, { message: 'must be a whole number from 1 to 64' })
  WORKER_PARTITION_CONCURRENCY = 2;

  /**
   * The most input bytes one partition's batch holds (Kafka's max.partition.fetch.bytes). A
   * learner's events in one batch cost one state write together, so a backlog goes faster in
   * large batches; memory holds at most this times `WORKER_PARTITION_CONCURRENCY` of raw input.
   */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of bytes from 65536 to 67108864' })
  @Min(65_536, { message: 'must be a whole number of bytes from 65536 to 67108864' })
  @Max(67_108_864, { message: 'must be a whole number of bytes from 65536 to 67108864' })
  WORKER_BATCH_MAX_BYTES = 8_388_608;

  /** Learners whose latest state the worker keeps in memory between batches (about 2 KB each). */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number from 0 to 10000000' })
  @Min(0, { message: 'must be a whole number from 0 to 10000000' })
  @Max(10_000_000, { message: 'must be a whole number from 0 to 10000000' })
  WORKER_STATE_CACHE_LEARNERS = 50_000;

  /** How often the admin API refreshes the sample-ratio gauges of the experiments in force (0: never). */
  @Transform(toInt)
  @ValidateIf((config: { SAMPLE_RATIO_CHECK_MS?: unknown }) => config.SAMPLE_RATIO_CHECK_MS !== 0)
  @IsInt({ message: 'must be a whole number of milliseconds, 0 or from 1000 to 3600000' })
  @Min(1000, { message: 'must be a whole number of milliseconds, 0 or from 1000 to 3600000' })
  @Max(3_600_000, { message: 'must be a whole number of milliseconds, 0 or from 1000 to 3600000' })
  SAMPLE_RATIO_CHECK_MS = 30_000;

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function describe(errors: ValidationError[]): string[] {
  return errors.map((error) => {
    const reasons = Object.values(error.constraints ?? {}).join(', ');
    const unset =
      error.value === undefined ||
      error.value === '' ||
      (Array.isArray(error.value) && error.value.length === 0);
    return `${error.property} ${reasons} (${unset ? 'not set' : `got ${JSON.stringify(error.value)}`})`;
  });
}

function load<T extends object>(cls: new () => T, env: Record<string, string | undefined>): T {
  const known = Object.keys(new cls());
  const relevant = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => known.includes(key) && value !== ''),
  );
  const config = plainToInstance(cls, relevant);
  const errors = validateSync(config, { forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length > 0) {
    throw new ConfigError(`Invalid configuration: ${describe(errors).join('; ')}`);
  }
  return config;
}

/**
 * Validates the environment into an AppConfig. Throws a ConfigError whose one-line message names
 * every bad setting, so a misconfigured process fails at start rather than on first use.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  return load(AppConfig, env);
}

/** Like loadConfig, for the store settings alone. */
export function loadStoreConfig(env: Record<string, string | undefined>): StoreConfig {
  return load(StoreConfig, env);
}
