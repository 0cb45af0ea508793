export { AppConfig, ConfigError, loadConfig } from './app-config';
export { AppConfigModule, EXIT_BAD_CONFIG, loadConfigOrExit } from './config.module';
