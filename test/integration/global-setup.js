// Integration tests run against the real Kafka broker and MongoDB-wire store. `npm test` starts
// them; run alone, Jest must be given KAFKA_BROKERS and MONGO_URL. Missing services are an
// error, never a reason to skip.
const { Kafka, logLevel } = require('kafkajs');
const { MongoClient } = require('mongodb');

module.exports = async function checkServicesAndBuild() {
  // Some tests run the built apps and CLI as a user would.
  const { build } = await import('../../scripts/lib/project.mjs');
  await build();

  const { KAFKA_BROKERS, MONGO_URL } = process.env;
  if (!KAFKA_BROKERS || !MONGO_URL) {
    throw new Error(
      'Integration tests need a real Kafka broker and MongoDB-wire store: run `npm test` (it starts them), ' +
        'or set KAFKA_BROKERS and MONGO_URL.',
    );
  }
  const admin = new Kafka({
    brokers: KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new Error(`Kafka at ${KAFKA_BROKERS} does not answer: ${error.message}`);
  } finally {
    await admin.disconnect();
  }
  const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db('admin').command({ ping: 1 });
  } catch (error) {
    throw new Error(`The store at ${MONGO_URL} does not answer: ${error.message}`);
  } finally {
    await client.close();
  }
};
