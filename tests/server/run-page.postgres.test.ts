import { describe, it } from 'vitest';
import { postgresBackend } from './helpers.js';
import { runRunPageSuite } from './run-page.case.js';

if (postgresBackend.skip) {
  describe('run page, exports and duplicates on postgres', () => {
    it.skip(`skipped: ${postgresBackend.skip}`, () => {});
  });
  console.log(`tests/server/run-page.postgres: skipped: ${postgresBackend.skip}`);
}
runRunPageSuite(postgresBackend);
