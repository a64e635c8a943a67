/**
 * Helpers shared by the FIT tests: where the real files are and what each one is expected to do.
 * (Not a test file itself: vitest only collects *.test.ts.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IngestCode } from '../../ingest/errors.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES_FIT = join(ROOT, 'fixtures/fit');
export const SHARED_FIT = resolve(ROOT, '../shared/fit');
export const CLI = join(ROOT, 'bin/crampguard.js');

/** Files that must fail, and with which code; every other real file must decode. */
export const EXPECTED_ERRORS: Readonly<Record<string, IngestCode>> = {
  'dtcooper__python-fitparse/activity-filecrc.fit': 'FIT_CRC_MISMATCH',
  'dtcooper__python-fitparse/activity-activity-filecrc.fit': 'FIT_CRC_MISMATCH',
  'roznet__FitFileParser/2023-01-13_heartratef.fit': 'FIT_NO_RECORDS',
};

/** Warnings a known-defective file must carry (MANIFEST.tsv notes). */
export const EXPECTED_WARNINGS: Readonly<Record<string, readonly string[]>> = {
  'dtcooper__python-fitparse/activity-unexpected-eof.fit': ['truncated'],
  'dtcooper__python-fitparse/activity-settings-nodata.fit': ['truncated'],
  'dtcooper__python-fitparse/activity-settings-corruptheader.fit': ['trailing_bytes'],
  'dtcooper__python-fitparse/strava-android-app-201.10-b1218918.fit': ['truncated', 'malformed'],
  'dtcooper__python-fitparse/nick.fit': ['truncated'],
};

/** `<source>/<file>.fit` names under a root, sorted. */
export function fitFilesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(root, dir.name))) if (f.endsWith('.fit')) out.push(`${dir.name}/${f}`);
  }
  return out.sort();
}

export const fixtureFiles = fitFilesUnder(FIXTURES_FIT);
export const sharedFiles = fitFilesUnder(SHARED_FIT);
export const sharedPresent = sharedFiles.length > 0;
if (!sharedPresent) console.log(`[fit tests] ${SHARED_FIT} is absent: testing the ${fixtureFiles.length} fixture copies only`);

/** A fixture as a plain Uint8Array of its own (a Buffer's slice() would share memory with the pool). */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES_FIT, name)));
}

/** MANIFEST.tsv rows by file (empty when ../shared/fit is absent). */
export function manifest(): Map<string, Record<string, string>> {
  const path = join(SHARED_FIT, 'MANIFEST.tsv');
  const rows = new Map<string, Record<string, string>>();
  if (!existsSync(path)) return rows;
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const keys = head!.split('\t');
  for (const line of lines) {
    const cells = line.split('\t');
    rows.set(cells[0]!, Object.fromEntries(keys.map((k, i) => [k, cells[i] ?? ''])));
  }
  return rows;
}
