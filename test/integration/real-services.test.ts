import type { Consumer, Kafka } from 'kafkajs';
import { MongoServerError, type MongoClient } from 'mongodb';
import { testKafka, testMongoClient, uniqueName } from '../support/real-services';

jest.setTimeout(60_000);

describe('the Kafka broker', () => {
  let kafka: Kafka;
  let consumer: Consumer | undefined;

  beforeAll(() => {
    kafka = testKafka();
  });
  afterEach(async () => {
    await consumer?.disconnect();
  });

  it('creates a topic, then delivers keyed messages to a consumer group in partition order', async () => {
    const topic = uniqueName('foundation');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    expect(metadata.topics[0]?.partitions).toHaveLength(3);

    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => ({
      key: `user-${i % 4}`,
      value: `event-${i}`,
    }));
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    consumer = kafka.consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; value: string }[] = [];
    await new Promise<void>((resolve) => {
      void consumer!.run({
        eachMessage: ({ message }) => {
          received.push({ key: String(message.key), value: String(message.value) });
          if (received.length === sent.length) resolve();
          return Promise.resolve();
        },
      });
    });

    expect(received).toHaveLength(sent.length);
    // Same key, same partition: each key's messages arrive in the order they were sent.
    for (const key of ['user-0', 'user-1', 'user-2', 'user-3']) {
      const order = (list: typeof sent) => list.filter((m) => m.key === key).map((m) => m.value);
      expect(order(received)).toEqual(order(sent));
    }
  });
});

describe('the MongoDB-wire store', () => {
  let client: MongoClient;

  beforeAll(() => {
    client = testMongoClient();
  });
  afterAll(async () => {
    await client.close();
  });

  it('stores and reads back documents and enforces a unique index with a duplicate-key error', async () => {
    const db = client.db(uniqueName('foundation').replaceAll('-', '_'));
    const collection = db.collection<{ experiment: string; userId: number; bucket: number }>(
      'assignments',
    );
    await collection.createIndex({ experiment: 1, userId: 1 }, { unique: true });

    await collection.insertOne({
      experiment: 'course_experience.animated_exy',
      userId: 7,
      bucket: 1,
    });
    const found = await collection.findOne({ userId: 7 }, { projection: { _id: 0 } });
    expect(found).toEqual({ experiment: 'course_experience.animated_exy', userId: 7, bucket: 1 });

    const duplicate = collection.insertOne({
      experiment: 'course_experience.animated_exy',
      userId: 7,
      bucket: 0,
    });
    await expect(duplicate).rejects.toBeInstanceOf(MongoServerError);
    await expect(duplicate).rejects.toMatchObject({ code: 11000 });
    expect(await collection.countDocuments()).toBe(1);

    await db.dropDatabase();
  });
});
