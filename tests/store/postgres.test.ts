import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { toStoreError } from '../../src/store/shared.js';
import { StoreError } from '../../src/store/types.js';
import { CREATE_MIGRATIONS_TABLE, LATEST_VERSION, migrationsFor } from '../../src/store/migrations.js';
import { builtStoreExists, runOpeners } from './processes.js';
import { runStoreContract } from './store.case.js';

// CI sets TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test. Each run works in its own schema.
const url = process.env.TEST_DATABASE_URL;

if (!url) {
  console.log('PostgreSQL store tests skipped: TEST_DATABASE_URL is not set');
  describe.skip('PostgreSQL store (TEST_DATABASE_URL not set)', () => {
    it('needs a database', () => undefined);
  });
} else {
  runStoreContract('PostgreSQL', async () => {
    const schema = `cg_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: url, max: 2 });
    const scoped = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
    return {
      open: () => openStore({ databaseUrl: url, schema, poolSize: 4 }),
      async countRows(table) {
        const { rows } = await admin.query(`SELECT COUNT(*)::int AS n FROM "${schema}".${table}`);
        return rows[0].n as number;
      },
      async sql(text) {
        return (await scoped.query(text)).rows as Record<string, unknown>[];
      },
      async destroy() {
        await scoped.end();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      },
    };
  });

  describe('PostgreSQL specifics', () => {
    it('reports an unreachable server as STORE_UNAVAILABLE', async () => {
      const error = await openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
    });

    it.skipIf(!builtStoreExists)('lets several processes migrate and write one fresh schema at once', async () => {
      const schema = `cg_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const results = await runOpeners({ databaseUrl: url, schema, poolSize: 2 }, 3);
        for (const r of results) {
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(JSON.parse(r.stdout)).toEqual({ version: LATEST_VERSION, contiguousSeq: 10 });
        }
        const { rows } = await admin.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
        expect(rows.map((r) => r.version)).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => i + 1));
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      }
    });

    it('upgrades a version-2 schema: runs stored with a report get their highlights on the first list', async () => {
      const schema = `cg_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA "${schema}"`);
        await admin.query(CREATE_MIGRATIONS_TABLE);
        for (const m of migrationsFor('postgres').slice(0, 2)) {
          await admin.query(m.sql);
          await admin.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
        }
        await admin.query("INSERT INTO athletes VALUES ('ath', 'Old', '{}', 'hash', 0)");
        const report = { alerts: [{ id: 'x' }, { id: 'y' }], risk: [{ t: 60, score: 12 }, { t: 120, score: 55.5 }, { t: 180, score: 40 }] };
        const insert = "INSERT INTO runs (id, athlete_id, source, status, created_at, report) VALUES ($1, 'ath', 'upload', $2, 0, $3)";
        await admin.query(insert, ['ended', 'ended', JSON.stringify(report)]);
        await admin.query(insert, ['live', 'live', null]);

        const store = await openStore({ databaseUrl: url, schema, poolSize: 2 });
        try {
          expect(await store.schemaVersion()).toBe(LATEST_VERSION);
          const listed = (await store.listRuns('ath')).items.map((r) => [r.id, r.prompts, r.peakRisk]);
          expect(listed).toEqual([['live', null, null], ['ended', 2, 55.5]]);
        } finally {
          await store.close();
        }
        const { rows } = await admin.query('SELECT id, prompts::int AS prompts, peak_risk FROM runs ORDER BY n');
        expect(rows).toEqual([
          { id: 'ended', prompts: 2, peak_risk: 55.5 },
          { id: 'live', prompts: null, peak_risk: null },
        ]);
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      }
    });

    it('maps disk full (53100) to STORE_FULL', () => {
      expect(toStoreError(Object.assign(new Error('could not extend file'), { code: '53100' })).code).toBe('STORE_FULL');
    });

    it('refuses a schema name that is not a plain identifier', async () => {
      const error = await openStore({ databaseUrl: url, schema: 'x"; DROP' }).catch((e: unknown) => e);
      expect((error as StoreError).code).toBe('STORE_BAD_INPUT');
    });
  });
}
