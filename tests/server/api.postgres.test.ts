import { describe, it } from 'vitest';
import { runApiSuite } from './api.case.js';
import { postgresBackend } from './helpers.js';

if (postgresBackend.skip) {
  describe('REST API on postgres', () => {
    it.skip(`skipped: ${postgresBackend.skip}`, () => {});
  });
  console.log(`tests/server/api.postgres: skipped: ${postgresBackend.skip}`);
}
runApiSuite(postgresBackend);
