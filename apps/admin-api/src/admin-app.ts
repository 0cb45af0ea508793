import type { AdminToken, AppConfig } from '@assigner/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AdminApiModule } from './admin-api.module';
import { DASHBOARD_ASSETS, DASHBOARD_PATH, dashboardHeaders } from './dashboard/dashboard-assets';

/** The admin API app with its body limits, query parsing and OpenAPI document, not yet listening. */
export async function createAdminApp(
  config: AppConfig,
  tokens: readonly AdminToken[],
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AdminApiModule.register(config, tokens),
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  // "simple" parsing keeps every query value a string (or a list of them), never an object.
  app.set('query parser', 'simple');
  app.disable('x-powered-by');
  app.useBodyParser('json', {
    limit: config.ADMIN_API_MAX_BODY_BYTES,
    type: ['application/json', 'application/merge-patch+json'],
  });
  // The dashboard is static files; the data it shows comes from the API with the user's token.
  app.useStaticAssets(DASHBOARD_ASSETS, {
    prefix: DASHBOARD_PATH,
    index: 'index.html',
    fallthrough: true,
    setHeaders: dashboardHeaders,
  });
  SwaggerModule.setup('docs', app, () => openApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
  });
  return app;
}

export function openApiDocument(app: NestExpressApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('experiment-assigner admin API')
    .setDescription(
      'Experiments (with optimistic concurrency and an audit trail), assignment lookups, explanations and bucket counts with a sample-ratio-mismatch check. Every route but /health needs a bearer token; changes need an editor token. Errors are application/problem+json.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}
