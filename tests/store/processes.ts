/**
 * Several OS processes opening one database at the same moment: the migration lock and write locking must
 * hold across processes, not just across handles in one. Runs the built store (`dist/`, made by `npm test`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SAMPLE_FIELDS } from '../../ingest/sample.js';
import type { StoreConfig } from '../../src/store/types.js';

export const BUILT_STORE = fileURLToPath(new URL('../../dist/src/store/index.js', import.meta.url));
export const builtStoreExists = existsSync(BUILT_STORE);

/** What each process does: open, write 10 group commits into its own live run, report its contiguous seq. */
const SCRIPT = `
const { openStore } = await import(process.env.STORE_MODULE);
const config = JSON.parse(process.env.STORE_CONFIG);
const store = await openStore(config);
// Past its short async retry a locked SQLite file gives a retriable STORE_UNAVAILABLE; callers (the live
// path's group commit) retry it, and so does this script, so a busy machine cannot starve it into a failure.
const retrying = async (op) => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (err?.code !== 'STORE_UNAVAILABLE' || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
};
const { athlete } = await retrying(() => store.createAthlete({ name: 'proc' }));
const { run } = await retrying(() => store.startLiveRun(athlete.id, { clientRunId: 'w' }));
const cols = () => {
  const c = { length: 2 };
  for (const f of JSON.parse(process.env.SAMPLE_FIELDS)) c[f] = new Float64Array([1, 2]);
  return c;
};
let last;
for (let seq = 1; seq <= 10; seq++) [last] = await retrying(() => store.appendSampleBatches([{ athleteId: athlete.id, runId: run.id, seq, samples: cols() }]));
console.log(JSON.stringify({ version: await store.schemaVersion(), contiguousSeq: last.contiguousSeq }));
await store.close();
`;

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runOpeners(config: StoreConfig, count: number): Promise<ProcessResult[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ProcessResult>((resolve) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], {
            env: { ...process.env, STORE_MODULE: BUILT_STORE, STORE_CONFIG: JSON.stringify(config), SAMPLE_FIELDS: JSON.stringify(SAMPLE_FIELDS) },
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d));
          child.stderr.on('data', (d: Buffer) => (stderr += d));
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        }),
    ),
  );
}
