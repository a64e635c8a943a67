import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { toStoreError } from '../../src/store/shared.js';
import { SQLITE_FILE } from '../../src/store/sqlite.js';
import { StoreError } from '../../src/store/types.js';
import { runStoreContract } from './store.case.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'crampguard-store-'));
}

runStoreContract('SQLite', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'nested', 'data'); // created on first open
  return {
    open: () => openStore({ dataDir }),
    async countRows(table) {
      const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
      try {
        return (db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number) ?? 0;
      } finally {
        db.close();
      }
    },
    async destroy() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite specifics', () => {
  it('creates the database in WAL mode and never stores a token in the clear', async () => {
    const dir = tempDir();
    try {
      const store = await openStore({ dataDir: dir });
      expect(store.kind).toBe('sqlite');
      const { token } = await store.createAthlete({ name: 'Ana' });
      await store.close();
      const db = new Database(join(dir, SQLITE_FILE), { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const hashes = db.prepare('SELECT token_hash FROM athletes').pluck().all();
      db.close();
      expect(hashes).toHaveLength(1);
      expect(hashes[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(readFileSync(join(dir, SQLITE_FILE)).includes(token)).toBe(false);
      expect(readFileSync(join(dir, `${SQLITE_FILE}-wal`)).includes(token)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an unusable data directory as STORE_UNAVAILABLE', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      const error = await openStore({ dataDir: file }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
      expect((error as StoreError).message).not.toContain('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database migrated by a newer build', async () => {
    const dir = tempDir();
    try {
      await (await openStore({ dataDir: dir })).close();
      const db = new Database(join(dir, SQLITE_FILE));
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future');
      db.close();
      const error = await openStore({ dataDir: dir }).catch((e: unknown) => e);
      expect((error as StoreError).code).toBe('STORE_MIGRATION_FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps a full disk (SQLITE_FULL) to STORE_FULL', () => {
    // A real SQLITE_FULL: a database capped at a few pages.
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (b BLOB)');
    db.pragma('max_page_count = 3');
    let caught: unknown;
    try {
      db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(64 * 1024));
    } catch (error) {
      caught = error;
    }
    db.close();
    expect((caught as { code?: string }).code).toBe('SQLITE_FULL');
    expect(toStoreError(caught).code).toBe('STORE_FULL');
  });
});
