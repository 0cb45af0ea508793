import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

/** A name no other test run uses, so tests can share one broker and store. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

function required(name: 'KAFKA_BROKERS' | 'MONGO_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the suite with \`npm test\``);
  return value;
}

export function testKafka(): Kafka {
  return new Kafka({
    clientId: uniqueName('test'),
    brokers: required('KAFKA_BROKERS').split(','),
    // kafkajs logs retriable coordinator errors at ERROR while a fresh broker warms up.
    logLevel: logLevel.NOTHING,
  });
}

export function testMongoClient(): MongoClient {
  return new MongoClient(required('MONGO_URL'), { serverSelectionTimeoutMS: 5000 });
}
