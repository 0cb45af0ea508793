import { BUCKETED_EVENT, type AnalyticsMessage } from '@assigner/contracts';
import { TransactionalOutput } from '@assigner/messaging';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { readCommitted, testKafka, uniqueName } from '../support/real-services';

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

  const message = (messageId: string): AnalyticsMessage => ({
    type: 'track',
    event: BUCKETED_EVENT,
    messageId,
    userId: 7,
    timestamp: '2024-03-01T00:00:00.000000+00:00',
    properties: {
      site: null,
      app_label: 'tx',
      experiment: 'early',
      course_id: null,
      bucket: 0,
      is_staff: false,
      nonInteraction: 1,
    },
  });

  it('commits the messages sent while a batch is stored only with it, and none of a failed batch', async () => {
    const groupId = uniqueName('tx-group');
    const output = workerOutput(groupId);
    expect(await output.claim(input, 0)).toBe(0);

    // Sent while the batch finishes storing: committed with it, and only then.
    const stored = await output.begin(input, 0);
    stored.send([message('stored-1'), message('stored-2')]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await readCommitted(kafka, analytics)).toEqual([]);
    await stored.commit(batchUpTo(10));
    // Sent, then the store failed or the batch was given up (its partition revoked): aborted,
    // nothing committed, and the partition goes on.
    for (const id of ['failed', 'revoked']) {
      const abandoned = await output.begin(input, 0);
      abandoned.send([message(id)]);
      await abandoned.abort();
    }
    expect(await output.claim(input, 0)).toBe(10);
    await output.publish({ ...batchUpTo(20), analytics: [message('stored-3')] });

    const published = await readCommitted(kafka, analytics, 3);
    expect(published.map(({ value }) => (JSON.parse(value) as AnalyticsMessage).messageId)).toEqual(
      ['stored-1', 'stored-2', 'stored-3'],
    );
    expect(await output.claim(input, 0)).toBe(20);
  });

  it('commits a batch with nothing to publish right after one that published', async () => {
    const output = workerOutput(uniqueName('tx-group'));
    expect(await output.claim(input, 0)).toBe(0);
    // The broker still writes the previous commit's markers for a moment; without waiting that
    // out, most such batches failed here.
    for (let round = 1; round <= 10; round++) {
      await output.publish({
        ...batchUpTo(20 * round - 10),
        analytics: [message(`round-${round}`)],
      });
      await output.publish(batchUpTo(20 * round));
    }
    expect(await output.claim(input, 0)).toBe(200);
  });
});
