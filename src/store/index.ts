/**
 * Opening the store: PostgreSQL when a database URL is configured, otherwise embedded SQLite under the data
 * directory (created on first start). Migrations run inside `openStore`. Each store's driver is loaded only when
 * that store is opened: a PostgreSQL deployment never loads better-sqlite3 (an optional dependency, so
 * `npm ci --omit=dev --omit=optional` does not build it), an embedded one never loads pg.
 * @example
 * const store = await openStore({ dataDir: process.env.DATA_DIR, databaseUrl: process.env.DATABASE_URL });
 * @module
 */
import { StoreError, type Store, type StoreConfig } from './types.js';

export * from './types.js';

export async function openStore(config: StoreConfig = {}): Promise<Store> {
  if (config.databaseUrl) {
    const { PostgresStore } = await import('./postgres.js');
    return PostgresStore.open(config as StoreConfig & { databaseUrl: string });
  }
  // The connection lives on its own thread (sqlite-thread.ts): better-sqlite3 missing fails that thread's start.
  const { SqliteThreadStore } = await import('./sqlite-thread.js');
  return SqliteThreadStore.open(config).catch((error: unknown) => {
    if (isMissing((error as { cause?: unknown } | null)?.cause, 'better-sqlite3')) {
      throw new StoreError(
        'STORE_UNAVAILABLE',
        'SQLite needs the optional package better-sqlite3, which is not installed: `npm install better-sqlite3`, or set DATABASE_URL for PostgreSQL',
        { cause: error },
      );
    }
    throw error;
  });
}

function isMissing(error: unknown, pkg: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`'${pkg}'`)
  );
}
