import 'reflect-metadata';
import { loadConfigOrExit } from '@assigner/config';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AdminApiModule } from './admin-api.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await NestFactory.create(AdminApiModule.register(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.listen(config.ADMIN_API_PORT, config.ADMIN_API_HOST);
  app.get(Logger).log(`admin API ready on ${await app.getUrl()}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`admin API failed to start: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
