export {
  ExperimentRepository,
  type ExperimentRevision,
  type StoredExperiment,
  type WriteContext,
  type WriteResult,
} from './experiment.repository';
export {
  assignmentId,
  fromAssignmentDocument,
  type AssignmentCopy,
  stateOf,
  type AssignmentDocument,
  type LearnerStateDocument,
} from './learner-state.documents';
export { LearnerStateRepository, type LoadedStates } from './learner-state.repository';
export { InjectDb, MONGO_DB, MongoHealthIndicator, MongoModule } from './mongo.module';
export { AssignmentCountsQuery } from './assignment-counts.query';
export { CountSnapshotRepository, type CountSnapshot } from './count-snapshot.repository';
export {
  OPEN_CHUNK_KEEP_ALIVE_MS,
  OPEN_CHUNK_STALE_AFTER_MS,
  TAKEN_OVER_WATCH_MS,
  OpenChunk,
  OpenChunkRepository,
  type ChunkProgress,
  type ChunkWriter,
  type OpenChunkDocument,
  type TakenOver,
} from './open-chunk.repository';
export {
  LearnerAttributesRepository,
  type AttributeImport,
  type SourcedAttributes,
} from './learner-attributes.repository';
export { groupBy } from './group-by';
