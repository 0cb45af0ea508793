export {
  KafkaBatchServer,
  type BatchHandler,
  type KafkaBatchServerOptions,
} from './kafka-batch.server';
export { createKafka, ensureTopics } from './kafka-client';
export {
  analyticsRecord,
  SEND_SLICE,
  TransactionalOutput,
  type BatchCommit,
  type PartitionBatchOutput,
  type TransactionalOutputOptions,
} from './transactional-output';
export { fetchStableCommittedOffsets, type StableOffsetsRequest } from './stable-committed-offsets';
