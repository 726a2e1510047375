import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { AnalyticsStore } from './analytics-store.js';
import { createPostgresStore } from './postgres-store.js';
import { createSqliteStore } from './sqlite-store.js';

/**
 * Opens the analytics store the configuration asks for: PostgreSQL when `DATABASE_URL` is set
 * (several instances share it), otherwise SQLite in `<DATA_DIR>/analytics.sqlite` (one host).
 * Migrations are applied before it resolves; it rejects when the database cannot be opened.
 */
export async function createStore(config: Pick<Config, 'dataDir' | 'databaseUrl'>, logger: Logger): Promise<AnalyticsStore> {
  if (config.databaseUrl !== undefined) {
    logger.info({ store: 'postgres' }, 'opening analytics store');
    return createPostgresStore({ connectionString: config.databaseUrl, logger });
  }
  logger.info({ store: 'sqlite', dataDir: config.dataDir }, 'opening analytics store');
  return createSqliteStore({ dataDir: config.dataDir, logger });
}
