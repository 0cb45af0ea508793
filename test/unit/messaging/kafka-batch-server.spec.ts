import { KafkaBatchServer } from '@assigner/messaging';
import { EventEmitter } from 'node:events';
import type { ConsumerConfig, Kafka } from 'kafkajs';
import pino from 'pino';

/** Just enough of a kafkajs consumer to watch the server start, stop and start it again. */
class FakeConsumer extends EventEmitter {
  readonly events = { GROUP_JOIN: 'join', CRASH: 'crash', STOP: 'stop' };
  running = false;
  disconnected = false;
  connect = jest.fn(() => Promise.resolve());
  subscribe = jest.fn(() => Promise.resolve());
  run = jest.fn(() => {
    this.running = true;
    return Promise.resolve();
  });
  disconnect = jest.fn(() => {
    this.disconnected = true;
    return Promise.resolve();
  });
  crash(restart: boolean): void {
    this.emit('crash', {
      payload: { error: new Error('Failed to find group coordinator'), restart },
    });
  }
}

function serverOver(
  consumers: FakeConsumer[],
  configs: ConsumerConfig[] = [],
  limits = { partitionsConsumedConcurrently: 1, batchMaxBytes: 1_048_576 },
): KafkaBatchServer {
  const kafka = {
    consumer: (config: ConsumerConfig) => {
      configs.push(config);
      const consumer = new FakeConsumer();
      consumers.push(consumer);
      return consumer;
    },
  } as unknown as Kafka;
  return new KafkaBatchServer({
    kafka,
    groupId: 'workers',
    topics: ['events'],
    handleBatch: () => Promise.resolve(),
    ...limits,
    logger: pino({ level: 'silent' }),
  });
}

function listening(server: KafkaBatchServer): Promise<void> {
  return new Promise((resolve, reject) => {
    void server.listen((error?: unknown) => {
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error('listen failed'));
    });
  });
}

describe('the worker’s Kafka transport', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('starts its consumer again after a crash kafkajs does not restart', async () => {
    const consumers: FakeConsumer[] = [];
    const server = serverOver(consumers);
    await listening(server);
    consumers[0]!.crash(false);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(consumers[0]!.disconnected).toBe(true);
    expect(consumers).toHaveLength(2);
    expect(consumers[1]!.running).toBe(true);
    await server.close();
  });

  it('leaves a crash kafkajs restarts to kafkajs, and a closed server closed', async () => {
    const consumers: FakeConsumer[] = [];
    const server = serverOver(consumers);
    await listening(server);
    consumers[0]!.crash(true);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(consumers).toHaveLength(1);

    consumers[0]!.crash(false);
    await server.close();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(consumers).toHaveLength(1);
  });

  it('fetches at most the batch size per partition, and that per partition handled at once', async () => {
    const configs: ConsumerConfig[] = [];
    const server = serverOver([], configs, {
      partitionsConsumedConcurrently: 6,
      batchMaxBytes: 8_388_608,
    });
    await listening(server);
    expect(configs[0]).toMatchObject({ maxBytesPerPartition: 8_388_608, maxBytes: 50_331_648 });
    await server.close();
  });
});
