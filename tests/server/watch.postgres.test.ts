import { describe, it } from 'vitest';
import { postgresBackend } from './helpers.js';
import { runWatchSuite } from './watch.case.js';

if (postgresBackend.skip) {
  describe('watch protocol on postgres', () => {
    it.skip(`skipped: ${postgresBackend.skip}`, () => {});
  });
  console.log(`tests/server/watch.postgres: skipped: ${postgresBackend.skip}`);
}
runWatchSuite(postgresBackend, { uploadLoad: false });
