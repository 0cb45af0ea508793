export {
  ExperimentRepository,
  type SaveOutcome,
  type StoredExperiment,
} from './experiment.repository';
export {
  fromAssignmentDocument,
  LearnerStateRepository,
  type AssignmentDocument,
  type LoadedStates,
} from './learner-state.repository';
export { InjectDb, MONGO_DB, MongoHealthIndicator, MongoModule } from './mongo.module';
