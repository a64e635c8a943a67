// One engine, however the samples arrive (issue 14): every activity file in fixtures/, ../shared/fit and
// ../shared/realruns is played to a real server as a watch would (`crampguard replay`'s path, src/wire/replay.ts)
// and its live prompts and end report must equal `analyzeRun` on the file, multisport and no-speed files
// included. The walk and the comparison are scripts/eval/replay-equals-report.mjs (`npm run eval:replay`), run
// here on the build (npm test builds first). Without ../shared only fixtures/ are walked.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/eval/replay-equals-report.mjs', import.meta.url));

interface Row { key: string; analysed: boolean | null; analyze: number; live: number; report: number; ok: boolean; detail: string }
interface Totals { files: number; analysed: number; notDecoded: number; differ: number; prompts: number }
interface Script {
  activityFiles(notes: string[]): { key: string; path: string }[];
  replayEqualsReport(files: { key: string; path: string }[]): Promise<Row[]>;
  totalsOf(rows: Row[]): Totals;
}

describe('replay equals report', () => {
  it('gives the same prompts live, in the end report and from the file, on every activity file', { timeout: 20 * 60_000 }, async () => {
    const mod = (await import(pathToFileURL(script).href)) as Script;
    const notes: string[] = [];
    const files = mod.activityFiles(notes);
    for (const note of notes) console.log(`replay-equals-report: ${note}`);
    const rows = await mod.replayEqualsReport(files);
    const totals = mod.totalsOf(rows);
    console.log(`replay-equals-report: ${JSON.stringify(totals)}`);
    expect(rows.filter((r) => !r.ok).map((r) => `${r.key}: ${r.detail}`)).toEqual([]);
    // The walk found real work: the multisport fixture is replayed, and prompts were compared, not just zeros.
    const multisport = rows.find((r) => r.key.endsWith('activity-large-fenxi2-multisport.fit'));
    expect(multisport?.analysed).toBe(true);
    expect(totals.analysed).toBeGreaterThan(50);
    expect(totals.prompts).toBeGreaterThan(20);
    expect(rows.filter((r) => r.live > 0).length).toBeGreaterThan(10);
  });
});
