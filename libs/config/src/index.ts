export { AppConfig, ConfigError, loadConfig, loadStoreConfig, StoreConfig } from './app-config';
export { ADMIN_ROLES, parseAdminTokens, type AdminRole, type AdminToken } from './admin-tokens';
export {
  AppConfigModule,
  EXIT_BAD_CONFIG,
  loadConfigOrExit,
  orExitOnBadConfig,
} from './config.module';
