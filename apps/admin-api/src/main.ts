import 'reflect-metadata';
import { loadConfigOrExit, orExitOnBadConfig, parseAdminTokens } from '@assigner/config';
import { ExperimentRepository, LearnerStateRepository } from '@assigner/persistence';
import { Logger } from 'nestjs-pino';
import { createAdminApp } from './admin-app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const tokens = orExitOnBadConfig(() => parseAdminTokens(config.ADMIN_API_TOKENS));
  const app = await createAdminApp(config, tokens);
  await app.get(ExperimentRepository).ensureIndexes();
  await app.get(LearnerStateRepository).ensureIndexes();
  await app.listen(config.ADMIN_API_PORT, config.ADMIN_API_HOST);
  app.get(Logger).log(`admin API ready on ${await app.getUrl()} (OpenAPI at /docs)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`admin API failed to start: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
