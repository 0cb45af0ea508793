import { TransactionalOutput } from '@assigner/messaging';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { testKafka, uniqueName } from '../support/real-services';

jest.setTimeout(60_000);

describe('TransactionalOutput: who owns an input partition and what it has published', () => {
  let kafka: Kafka;
  let input: string;
  let analytics: string;
  const outputs: TransactionalOutput[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    input = uniqueName('tx-input');
    analytics = uniqueName('tx-analytics');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [input, analytics, `${analytics}-dlq`].map((topic) => ({ topic })),
      waitForLeaders: true,
    });
    await admin.disconnect();
  });
  afterAll(async () => {
    await Promise.all(outputs.map((output) => output.close()));
  });

  /** One worker's output; workers of one group share the transactional id prefix. */
  function workerOutput(groupId: string): TransactionalOutput {
    const output = new TransactionalOutput({
      kafka,
      brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
      clientId: uniqueName('tx-claim'),
      transactionalIdPrefix: groupId,
      groupId,
      analyticsTopic: analytics,
      dlqTopic: `${analytics}-dlq`,
      logger: pino({ level: 'silent' }),
    });
    outputs.push(output);
    return output;
  }

  const batchUpTo = (nextOffset: number) => ({
    topic: input,
    partition: 0,
    nextOffset: String(nextOffset),
    analytics: [],
    deadLetters: [],
  });

  it('skips, batch after batch, what it or the previous owner published; fences the previous owner', async () => {
    const groupId = uniqueName('tx-group');
    const first = workerOutput(groupId);
    expect(await first.claim(input, 0)).toBe(0);
    await first.publish(batchUpTo(100));
    // Every later batch of this partition starts from what is published, not only the first.
    expect(await first.claim(input, 0)).toBe(100);

    const second = workerOutput(groupId);
    expect(await second.claim(input, 0)).toBe(100);
    await expect(first.publish(batchUpTo(150))).rejects.toThrow();
    await second.publish(batchUpTo(150));
    expect(await second.claim(input, 0)).toBe(150);

    // The fenced worker, given the partition back, learns where the other one stopped.
    expect(await first.claim(input, 0)).toBe(150);
  });
});
