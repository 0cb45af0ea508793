import { SETTLE_PREVIOUS_TRANSACTION_MS, TransactionalOutput } from '@assigner/messaging';
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  type Kafka,
} from 'kafkajs';
import pino from 'pino';

/** The broker's answer while it settles the transactional id's previous transaction. */
const concurrentTransactionsAnswer = () =>
  new KafkaJSProtocolError(
    Object.assign(new Error('another concurrent operation on the same transaction'), {
      type: 'CONCURRENT_TRANSACTIONS',
      code: 51,
    }),
  );

/** What kafkajs throws when the broker kept answering "concurrent transactions" past its retries. */
const concurrentTransactions = () =>
  new KafkaJSNumberOfRetriesExceeded(concurrentTransactionsAnswer(), {
    retryCount: 8,
    retryTime: 10_000,
  });

/** Just enough of a kafkajs transaction: adding the input's offset fails with these errors. */
class FakeTransaction {
  committed = false;
  constructor(private readonly offsetsFailures: Error[]) {}
  send = () => Promise.resolve();
  sendOffsets = () => {
    const failure = this.offsetsFailures.shift();
    return failure ? Promise.reject(failure) : Promise.resolve();
  };
  commit = () => {
    this.committed = true;
    return Promise.resolve();
  };
  abort = () => Promise.resolve();
}

/** Just enough of a kafkajs producer: registering its transactional id fails with these errors. */
class FakeProducer {
  disconnected = false;
  readonly transactions: FakeTransaction[] = [];
  constructor(
    private readonly failure: Error | undefined,
    private readonly offsetsFailures: Error[],
  ) {}
  connect = () => Promise.resolve();
  disconnect = () => {
    this.disconnected = true;
    return Promise.resolve();
  };
  transaction = () => {
    if (this.failure) return Promise.reject(this.failure);
    const transaction = new FakeTransaction(this.offsetsFailures);
    this.transactions.push(transaction);
    return Promise.resolve(transaction);
  };
}

function outputOver(
  failures: (Error | undefined)[],
  producers: FakeProducer[],
  offsetsFailures: Error[] = [],
) {
  const kafka = {
    producer: () => {
      const producer = new FakeProducer(failures.shift(), offsetsFailures);
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

describe('the transactional output committing a batch with nothing to publish', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const nothingToPublish = { nextOffset: '10', deadLetters: [] };

  it('waits out the broker still writing the previous commit, which kafkajs does not retry', async () => {
    const producers: FakeProducer[] = [];
    const answers = Array.from({ length: 5 }, () => concurrentTransactionsAnswer());
    const output = outputOver([undefined], producers, answers);
    const transaction = await output.begin('events', 0);
    const committed = transaction.commit(nothingToPublish);
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(committed).resolves.toBeUndefined();
    expect(producers[0]!.transactions.at(-1)!.committed).toBe(true);
  });

  it('fails the commit on any other error, letting the producer go', async () => {
    const producers: FakeProducer[] = [];
    const output = outputOver([undefined], producers, [new KafkaJSConnectionError('broker away')]);
    const transaction = await output.begin('events', 0);
    await expect(transaction.commit(nothingToPublish)).rejects.toBeInstanceOf(
      KafkaJSConnectionError,
    );
    expect(producers[0]!.disconnected).toBe(true);
  });
});
