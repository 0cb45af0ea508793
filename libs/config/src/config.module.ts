import { Module, type DynamicModule } from '@nestjs/common';
import { AppConfig, ConfigError, loadConfig } from './app-config';

/** Provides the AppConfig validated in main(), before Nest starts. */
@Module({})
export class AppConfigModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}

/** sysexits.h EX_CONFIG: lets supervisors tell "fix the settings" from a crash. */
export const EXIT_BAD_CONFIG = 78;

/** For main(): what `load` returns, or one line on stderr naming every bad setting and exit. */
export function orExitOnBadConfig<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
}

/** For main(): the validated config, or exit naming every bad setting. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): AppConfig {
  return orExitOnBadConfig(() => loadConfig(env));
}
