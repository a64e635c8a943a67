import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { encodeChunk } from '../../src/store/codec.js';
import { CREATE_MIGRATIONS_TABLE, LATEST_VERSION, migrationsFor } from '../../src/store/migrations.js';
import { toStoreError } from '../../src/store/shared.js';
import { SQLITE_FILE, SqliteStore } from '../../src/store/sqlite.js';
import { StoreError, type Store } from '../../src/store/types.js';
import { builtStoreExists, runOpeners } from './processes.js';
import { makeColumns, runStoreContract } from './store.case.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'crampguard-store-'));
}

/** A fresh data directory, opened with `openAt`. */
function sqliteLocation(openAt: (dataDir: string) => Promise<Store>) {
  return async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'nested', 'data'); // created on first open
    return {
      open: () => openAt(dataDir),
      async countRows(table: string) {
        const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
        try {
          return (db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number) ?? 0;
        } finally {
          db.close();
        }
      },
      async sql(text: string) {
        const db = new Database(join(dataDir, SQLITE_FILE));
        try {
          const statement = db.prepare(text);
          if (statement.reader) return statement.all() as Record<string, unknown>[];
          statement.run();
          return [];
        } finally {
          db.close();
        }
      },
      async destroy() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

runStoreContract('SQLite', sqliteLocation((dataDir) => openStore({ dataDir })));
// The same contract in the process with the live log's limits tiny, so every way rows leave the log is taken.
runStoreContract(
  'SQLite, live batches moved out of the log every few appends',
  sqliteLocation(async (dataDir) => SqliteStore.open({ dataDir }, { lagRows: 3, runRows: 2, deleteEveryRows: 2 })),
);

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

  it('upgrades a version-1 database with data, backfilling what later migrations need', async () => {
    const dir = tempDir();
    try {
      // A database as the first release left it: a live run with batches 1 and 3 stored, mark at 1.
      const db = new Database(join(dir, SQLITE_FILE));
      db.exec(CREATE_MIGRATIONS_TABLE);
      db.exec(migrationsFor('sqlite')[0]!.sql);
      db.prepare("INSERT INTO schema_migrations VALUES (1, 'v1', 0)").run();
      db.prepare("INSERT INTO athletes VALUES ('ath', 'Old', '{}', 'hash', 0)").run();
      db.prepare(
        "INSERT INTO runs (id, athlete_id, source, status, client_run_id, created_at, sample_count, contiguous_seq) VALUES ('run', 'ath', 'live', 'live', 'w', 0, 2, 1)",
      ).run();
      const insert = db.prepare('INSERT INTO sample_chunks VALUES (1, ?, ?, 1, ?)');
      for (const seq of [1, 3]) insert.run(seq, seq, encodeChunk(makeColumns(1, seq, seq)));
      db.close();

      const store = await openStore({ dataDir: dir });
      expect(await store.schemaVersion()).toBe(LATEST_VERSION);
      const [result] = await store.appendSampleBatches([
        { athleteId: 'ath', runId: 'run', seq: 2, samples: makeColumns(1, 2, 2) },
      ]);
      expect(result).toEqual({ runId: 'run', seq: 2, status: 'stored', contiguousSeq: 3 });
      expect(Array.from((await store.readSamples('ath', 'run'))!.t)).toEqual([1, 2, 3]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('upgrades a version-2 database: runs stored with a report get their highlights on the first list', async () => {
    const dir = tempDir();
    try {
      const db = new Database(join(dir, SQLITE_FILE));
      db.exec(CREATE_MIGRATIONS_TABLE);
      for (const m of migrationsFor('sqlite').slice(0, 2)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      db.prepare("INSERT INTO athletes VALUES ('ath', 'Old', '{}', 'hash', 0)").run();
      const report = { alerts: [{ id: 'x' }, { id: 'y' }], risk: [{ t: 60, score: 12 }, { t: 120, score: 55.5 }, { t: 180, score: 40 }] };
      const insert = db.prepare(
        "INSERT INTO runs (id, athlete_id, source, status, created_at, report) VALUES (?, 'ath', 'upload', ?, 0, ?)",
      );
      insert.run('ended', 'ended', JSON.stringify(report));
      insert.run('live', 'live', null);
      db.close();

      const store = await openStore({ dataDir: dir });
      expect(await store.schemaVersion()).toBe(LATEST_VERSION);
      const listed = (await store.listRuns('ath')).items.map((r) => [r.id, r.prompts, r.peakRisk]);
      expect(listed).toEqual([['live', null, null], ['ended', 2, 55.5]]);
      await store.close();
      const after = new Database(join(dir, SQLITE_FILE), { readonly: true });
      expect(after.prepare('SELECT id, prompts, peak_risk FROM runs ORDER BY n').raw().all()).toEqual([
        ['ended', 2, 55.5],
        ['live', null, null],
      ]);
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!builtStoreExists)('lets several processes open and write one database at once', async () => {
    const dir = tempDir();
    try {
      const results = await runOpeners({ dataDir: dir }, 3);
      for (const r of results) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ version: LATEST_VERSION, contiguousSeq: 10 });
      }
      const db = new Database(join(dir, SQLITE_FILE), { readonly: true });
      expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(
        Array.from({ length: LATEST_VERSION }, (_, i) => i + 1),
      );
      expect(db.prepare('SELECT COUNT(*) FROM sample_chunks').pluck().get()).toBe(30);
      db.close();
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
