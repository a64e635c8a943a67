/**
 * Opening the store: PostgreSQL when a database URL is configured, otherwise embedded SQLite under the data
 * directory (created on first start). Migrations run inside `openStore`.
 * @example
 * const store = await openStore({ dataDir: process.env.DATA_DIR, databaseUrl: process.env.DATABASE_URL });
 * @module
 */
import { SqliteStore } from './sqlite.js';
import type { Store, StoreConfig } from './types.js';

export * from './types.js';

export async function openStore(config: StoreConfig = {}): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded only when used: an embedded deployment never loads pg.
    const { PostgresStore } = await import('./postgres.js');
    return PostgresStore.open(config as StoreConfig & { databaseUrl: string });
  }
  return SqliteStore.open(config);
}
