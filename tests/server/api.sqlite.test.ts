import { runApiSuite } from './api.case.js';
import { sqliteBackend } from './helpers.js';

runApiSuite(sqliteBackend);
