export { AppConfig, ConfigError, loadConfig, loadStoreConfig, StoreConfig } from './app-config';
export { AppConfigModule, EXIT_BAD_CONFIG, loadConfigOrExit } from './config.module';
