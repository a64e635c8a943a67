// The watch contract suite over the HTTP transport (POST /api/watch/...), on PostgreSQL.
import { describe, it } from 'vitest';
import { postgresBackend } from './helpers.js';
import { runWatchSuite } from './watch.case.js';

if (postgresBackend.skip) {
  describe('watch protocol over HTTP on postgres', () => {
    it.skip(`skipped: ${postgresBackend.skip}`, () => {});
  });
  console.log(`tests/server/watch-http.postgres: skipped: ${postgresBackend.skip}`);
}
runWatchSuite(postgresBackend, { transport: 'http', uploadLoad: false });
