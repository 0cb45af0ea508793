export {
  ExperimentRepository,
  type SaveOutcome,
  type StoredExperiment,
} from './experiment.repository';
export { InjectDb, MONGO_DB, MongoHealthIndicator, MongoModule } from './mongo.module';
