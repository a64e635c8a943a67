/**
 * Helpers shared by the GPX/TCX tests: the fixture copies, the real runs of ../shared/realruns and their
 * MANIFEST.tsv rows. (Not a test file itself: vitest only collects *.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ACTIVITY_ERROR_CODES, IngestError } from '../../ingest/errors.js';
import type { NormalizedRun } from '../../ingest/sample.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES_XML = join(ROOT, 'fixtures/xml');
export const REALRUNS = resolve(ROOT, '../shared/realruns');

export const XML_FIXTURES = {
  tcxPlain: 'vkurup__python-tcxparser/test.tcx',
  tcxTpx: 'corriporai__runpandas/2020-12-26T06_03_49-300_Running.tcx',
  gpxGarmin: 'cdryzun__running_page/464310763.gpx',
  gpxHrOnly: 'corriporai__runpandas/feaf2949-0da0-47cf-b4ed-6818c70d0733.gpx',
} as const;

export function xmlFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES_XML, name)));
}

/** MANIFEST.tsv rows of ../shared/realruns (empty when it is absent). */
export function realRuns(): Record<string, string>[] {
  const path = join(REALRUNS, 'MANIFEST.tsv');
  if (!existsSync(path)) return [];
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const keys = head!.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(keys.map((k, i) => [k, cells[i] ?? '']));
  });
}

/** The decoder's outcome: the run, or the IngestError (with a listed code and a one-line message). */
export function outcomeOf(decode: () => NormalizedRun): NormalizedRun | IngestError {
  try {
    return decode();
  } catch (err) {
    if (!(err instanceof IngestError)) throw new Error(`not an IngestError: ${err instanceof Error ? err.stack : String(err)}`);
    expect(ACTIVITY_ERROR_CODES).toContain(err.code);
    expect(err.message).not.toMatch(/\n|^$/);
    return err;
  }
}
