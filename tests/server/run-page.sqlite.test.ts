import { sqliteBackend } from './helpers.js';
import { runRunPageSuite } from './run-page.case.js';

runRunPageSuite(sqliteBackend);
