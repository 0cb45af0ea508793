export { InjectDb, MONGO_DB, MongoHealthIndicator, MongoModule } from './mongo.module';
