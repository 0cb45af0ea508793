import { AppConfig } from '@assigner/config';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

/** Structured JSON logs (pino) on stdout, request logs included for the HTTP surfaces. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.LOG_LEVEL,
          // Health probes and scrapes every few seconds would drown the log.
          autoLogging: { ignore: (req) => ['/health', '/metrics'].includes(req.url ?? '') },
          redact: ['req.headers.authorization'],
        },
      }),
    }),
  ],
})
export class LoggingModule {}
