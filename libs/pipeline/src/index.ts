export { InMemoryAssigner, type MessageOutcome, type RunSummary } from './in-memory-assigner';
