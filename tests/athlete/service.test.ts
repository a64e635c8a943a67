/**
 * The server's athlete model (src/server/athlete.ts) keeps parsed summary rows per athlete and checks them against
 * the store on each use: after any mix of adds, replacements and deletions, made through it or behind its back
 * (another process), its model equals a fold of what the store holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { foldModel } from '../../src/athlete/model.js';
import { summarizeRun, type RunSummary } from '../../src/athlete/summary.js';
import { AthleteService } from '../../src/server/athlete.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { history } from './history.js';

let store: Store;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cg-athlete-service-'));
  store = await openStore({ dataDir: dir });
});
afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const summaries: RunSummary[] = history(2).map((r) => summarizeRun(r.run));

test('the cached model always equals a fold of the stored rows', async () => {
  const { athlete } = await store.createAthlete({ name: 'cache' });
  const runs: string[] = [];
  for (let i = 0; i < 8; i++) runs.push((await store.startLiveRun(athlete.id, { clientRunId: `c${i}` })).run.id);
  const service = new AthleteService(store, { analyzeRun: async () => { throw new Error('unused'); } });
  const deleted = new Set<string>();
  // Another connection to the same file: rows removed behind the service's back (as another process would).
  const behind = new Database(join(dir, 'crampguard.sqlite'));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom('save', 'save', 'save', 'forget', 'delete'), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: summaries.length - 1 })), { minLength: 1, maxLength: 10 }),
      async (ops) => {
        for (const [op, i, k] of ops) {
          const runId = runs[i]!;
          if (deleted.has(runId)) continue;
          if (op === 'save') await store.saveRunSummary(athlete.id, runId, summaries[k]!);
          else if (op === 'forget') behind.prepare('DELETE FROM run_summaries WHERE run_n = (SELECT n FROM runs WHERE id = ?)').run(runId);
          else {
            await store.deleteRun(athlete.id, runId);
            deleted.add(runId);
          }
          const stored = (await store.listRunSummaries(athlete.id)).map((s) => ({ runId: s.runId, summary: s.summary }));
          expect(await service.model(athlete.id)).toEqual(foldModel(stored, { training: false }));
        }
      },
    ),
    { numRuns: 20 },
  );
  behind.close();
});
