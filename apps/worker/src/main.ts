import 'reflect-metadata';
import { loadConfigOrExit } from '@assigner/config';
import { createKafka, ensureTopics, KafkaBatchServer } from '@assigner/messaging';
import { LearnerStateRepository } from '@assigner/persistence';
import { NestFactory } from '@nestjs/core';
import { Logger, PinoLogger } from 'nestjs-pino';
import { ExperimentCatalog } from './experiment-catalog.service';
import { OpenChunkSweeper } from './open-chunk-sweeper.service';
import { WorkerModule } from './worker.module';
import { workerTopics } from './worker-topics';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await NestFactory.create(WorkerModule.register(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();

  const logger = (await app.resolve(PinoLogger)).logger;
  // Independent of each other: made at once, to start consuming sooner.
  await Promise.all([
    ensureTopics(createKafka(config, logger, 'worker-admin'), workerTopics(config)),
    app.get(LearnerStateRepository).ensureIndexes(),
    app.get(ExperimentCatalog).start(),
  ]);
  app.get(OpenChunkSweeper).start();

  app.connectMicroservice({ strategy: app.get(KafkaBatchServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.WORKER_HTTP_PORT, config.WORKER_HTTP_HOST);
  logger.info({ url: await app.getUrl() }, 'worker ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed to start: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
