export {
  BatchAssigner,
  type BatchCounts,
  type BatchResult,
  type DeadLetter,
  type InboundMessage,
  type LearnerStateStore,
} from './batch-assigner';
export { InMemoryAssigner, type RunSummary } from './in-memory-assigner';
