export {
  BatchAssigner,
  type BatchCounts,
  type AnalyticsOutput,
  type BatchResult,
  type DecisionCount,
  type LearnerStateStore,
  type LoadedLearners,
  type ProcessOptions,
} from './batch-assigner';
export { InMemoryAssigner, type RunSummary } from './in-memory-assigner';
export { MemoryLearnerStore, type LearnerStateSource } from './memory-learner-store';
