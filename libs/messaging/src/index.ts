export { createKafka, ensureTopics } from './kafka-client';
export {
  KafkaBatchServer,
  type BatchHandler,
  type KafkaBatchServerOptions,
} from './kafka-batch.server';
