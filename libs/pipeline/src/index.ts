export {
  BatchAssigner,
  type BatchCounts,
  type BatchResult,
  type DecisionCount,
  type ProcessOptions,
} from './batch-assigner';
export { InMemoryAssigner, type RunSummary } from './in-memory-assigner';
export { MemoryLearnerStore, type LearnerStateSource } from './memory-learner-store';
