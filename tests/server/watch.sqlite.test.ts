import { sqliteBackend } from './helpers.js';
import { runWatchSuite } from './watch.case.js';

runWatchSuite(sqliteBackend);
