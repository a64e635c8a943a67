import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { toStoreError } from '../../src/store/shared.js';
import { StoreError } from '../../src/store/types.js';
import { LATEST_VERSION } from '../../src/store/migrations.js';
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
    return {
      open: () => openStore({ databaseUrl: url, schema, poolSize: 4 }),
      async countRows(table) {
        const { rows } = await admin.query(`SELECT COUNT(*)::int AS n FROM "${schema}".${table}`);
        return rows[0].n as number;
      },
      async destroy() {
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

    it('maps disk full (53100) to STORE_FULL', () => {
      expect(toStoreError(Object.assign(new Error('could not extend file'), { code: '53100' })).code).toBe('STORE_FULL');
    });

    it('refuses a schema name that is not a plain identifier', async () => {
      const error = await openStore({ databaseUrl: url, schema: 'x"; DROP' }).catch((e: unknown) => e);
      expect((error as StoreError).code).toBe('STORE_BAD_INPUT');
    });
  });
}
