import { SETTLE_PREVIOUS_TRANSACTION_MS, TransactionalOutput } from '@assigner/messaging';
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  type Kafka,
} from 'kafkajs';
import pino from 'pino';

/** What kafkajs throws when the broker kept answering "concurrent transactions" past its retries. */
const concurrentTransactions = () =>
  new KafkaJSNumberOfRetriesExceeded(
    new KafkaJSProtocolError(
      Object.assign(new Error('another concurrent operation on the same transaction'), {
        type: 'CONCURRENT_TRANSACTIONS',
        code: 51,
      }),
    ),
    { retryCount: 8, retryTime: 10_000 },
  );

/** Just enough of a kafkajs producer: registering its transactional id fails with these errors. */
class FakeProducer {
  disconnected = false;
  constructor(private readonly failure: Error | undefined) {}
  connect = () => Promise.resolve();
  disconnect = () => {
    this.disconnected = true;
    return Promise.resolve();
  };
  transaction = () =>
    this.failure
      ? Promise.reject(this.failure)
      : Promise.resolve({ abort: () => Promise.resolve() });
}

function outputOver(failures: (Error | undefined)[], producers: FakeProducer[]) {
  const kafka = {
    producer: () => {
      const producer = new FakeProducer(failures.shift());
      producers.push(producer);
      return producer;
    },
  } as unknown as Kafka;
  return new TransactionalOutput({
    kafka,
    brokers: ['127.0.0.1:1'],
    clientId: 'test',
    transactionalIdPrefix: 'test',
    groupId: 'workers',
    analyticsTopic: 'analytics',
    dlqTopic: 'dlq',
    logger: pino({ level: 'silent' }),
  });
}

describe('the transactional output taking a partition over', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits out the previous owner’s transaction being settled, with a fresh producer each time', async () => {
    const producers: FakeProducer[] = [];
    const output = outputOver([concurrentTransactions(), concurrentTransactions()], producers);
    const begun = output.begin('events', 0);
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(begun).resolves.toMatchObject({ topic: 'events', partition: 0 });
    expect(producers.map(({ disconnected }) => disconnected)).toEqual([true, true, false]);
  });

  it('gives up once settling has taken too long', async () => {
    const producers: FakeProducer[] = [];
    const output = outputOver(
      Array.from({ length: 1000 }, () => concurrentTransactions()),
      producers,
    );
    const begun = output.begin('events', 0);
    begun.catch(() => undefined);
    await jest.advanceTimersByTimeAsync(SETTLE_PREVIOUS_TRANSACTION_MS + 10_000);
    await expect(begun).rejects.toBeInstanceOf(KafkaJSNumberOfRetriesExceeded);
    expect(producers.every(({ disconnected }) => disconnected)).toBe(true);
  });

  it('fails at once on any other error', async () => {
    const producers: FakeProducer[] = [];
    const output = outputOver([new KafkaJSConnectionError('broker away')], producers);
    await expect(output.begin('events', 0)).rejects.toBeInstanceOf(KafkaJSConnectionError);
    expect(producers).toHaveLength(1);
  });
});
