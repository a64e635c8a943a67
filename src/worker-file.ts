/**
 * Where a worker thread's compiled entry module is: next to the module that starts it, or, when that module runs
 * from TypeScript sources (vitest), the build's copy under dist/ (`npm test` builds first).
 * @module
 */
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The file URL of the compiled worker `entry` (a URL next to the caller: `new URL('./x-worker.js', import.meta.url)`). */
export function workerFile(entry: URL): string {
  const path = fileURLToPath(entry);
  if (existsSync(path)) return entry.href;
  // The last src/ of the path is the project's (a checkout may itself sit under a folder named src).
  const at = path.lastIndexOf(`${sep}src${sep}`);
  const fromDist = at < 0 ? '' : `${path.slice(0, at)}${sep}dist${path.slice(at)}`;
  if (fromDist && existsSync(fromDist)) return pathToFileURL(fromDist).href;
  throw new Error(`worker not found (${path}); run \`npm run build\``);
}
