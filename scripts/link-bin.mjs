// `npm install` links dependencies' commands into node_modules/.bin but not the project's own: link
// `crampguard` there too, so tools that look for it by path find the same command `npx crampguard` runs.
import { mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';

const link = 'node_modules/.bin/crampguard';
const target = '../../bin/crampguard.js';
let current = null;
try {
  current = readlinkSync(link);
} catch {
  // absent: created below
}
if (current !== target) {
  mkdirSync('node_modules/.bin', { recursive: true });
  if (current !== null) unlinkSync(link);
  symlinkSync(target, link);
}
