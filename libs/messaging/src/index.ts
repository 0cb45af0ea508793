export {
  batchFetchLimits,
  KafkaBatchServer,
  type BatchHandler,
  type KafkaBatchServerOptions,
} from './kafka-batch.server';
export { createKafka, ensureTopics, errorText, type NeededTopic } from './kafka-client';
export {
  analyticsRecord,
  SEND_SLICE,
  SETTLE_PREVIOUS_TRANSACTION_MS,
  TRANSACTION_TIMEOUT_MS,
  PartitionTransaction,
  TransactionalOutput,
  type BatchCommit,
  type PartitionBatchOutput,
  type TransactionalOutputOptions,
} from './transactional-output';
export { fetchStableCommittedOffsets, type StableOffsetsRequest } from './stable-committed-offsets';
export {
  EventBusDecoder,
  type DecodedBatch,
  type EventBusDecoderOptions,
} from './event-bus/event-bus-decoder';
