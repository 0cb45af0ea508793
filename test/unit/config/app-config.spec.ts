import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@assigner/config';

const valid = { KAFKA_BROKERS: '127.0.0.1:19092', MONGO_URL: 'mongodb://127.0.0.1:27018/' };

describe('configuration', () => {
  it('fills defaults and parses lists and numbers from the environment', () => {
    const config = loadConfig({ ...valid, INPUT_TOPICS: 'a, b ,c', TOPIC_PARTITIONS: '12' });
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:19092']);
    expect(config.INPUT_TOPICS).toEqual(['a', 'b', 'c']);
    expect(config.TOPIC_PARTITIONS).toBe(12);
    expect(config.MONGO_DB).toBe('experiment_assigner');
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('names every bad or missing setting in one line', () => {
    const attempt = () =>
      loadConfig({
        MONGO_URL: 'postgres://x',
        TOPIC_PARTITIONS: 'many',
        LOG_LEVEL: 'loud',
        WORKER_BATCH_MAX_BYTES: '1024',
      });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('KAFKA_BROKERS must list at least one broker as host:port (not set)');
    expect(message).toContain(
      'MONGO_URL must be a mongodb:// or mongodb+srv:// URL (got "postgres://x")',
    );
    expect(message).toContain(
      'TOPIC_PARTITIONS must be a whole number from 1 to 10000 (got "many")',
    );
    expect(message).toContain('LOG_LEVEL must be one of');
    expect(message).toContain(
      'WORKER_BATCH_MAX_BYTES must be a whole number of bytes from 65536 to 67108864 (got 1024)',
    );
  });

  it('takes an optional schema registry URL, and names the setting when it is not one', () => {
    expect(loadConfig(valid).SCHEMA_REGISTRY_URL).toBe('');
    expect(() => loadConfig({ ...valid, SCHEMA_REGISTRY_URL: '127.0.0.1:18081' })).toThrow(
      /SCHEMA_REGISTRY_URL must be an http\(s\) URL of a Confluent-compatible registry API/,
    );
  });

  it('rejects a broker list entry without a port', () => {
    expect(() => loadConfig({ ...valid, KAFKA_BROKERS: '127.0.0.1:19092,kafka' })).toThrow(
      /KAFKA_BROKERS must be a comma-separated list of host:port \(got \["127.0.0.1:19092","kafka"\]\)/,
    );
  });

  it.each(['worker', 'admin-api'])(
    'makes the %s exit at once with code 78 and one line on a bad setting',
    (app) => {
      const result = spawnSync(
        process.execPath,
        [join(__dirname, '../../../dist/apps', app, 'src/main.js')],
        {
          env: {
            PATH: process.env.PATH,
            KAFKA_BROKERS: 'nowhere',
            MONGO_URL: 'mongodb://127.0.0.1:1/',
          },
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      expect(result.status).toBe(78);
      expect(result.stderr.trim()).toBe(
        'Invalid configuration: KAFKA_BROKERS must be a comma-separated list of host:port (got ["nowhere"])',
      );
    },
  );
});
