// The watch contract suite over the HTTP transport (POST /api/watch/...), on SQLite.
import { sqliteBackend } from './helpers.js';
import { runWatchSuite } from './watch.case.js';

runWatchSuite(sqliteBackend, { transport: 'http', uploadLoad: false });
