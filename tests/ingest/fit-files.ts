/**
 * Helpers shared by the FIT tests: where the real files are and what each one is expected to do.
 * (Not a test file itself: vitest only collects *.test.ts.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { IngestCode } from '../../ingest/errors.js';
import { PLAUSIBLE } from '../../ingest/plausible.js';
import { CHANNELS, isPosition, SAMPLE_FIELDS } from '../../ingest/sample.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { fitCrc } from '../../ingest/fit/frame.js';

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

/** Invariants every decoded run must satisfy, whatever the file. */
export function checkRun(run: NormalizedRun): void {
  const s = run.samples;
  expect(s.length).toBeGreaterThan(0);
  expect(s.t[0]).toBe(0);
  for (const f of SAMPLE_FIELDS) expect(s[f].length).toBe(s.length);
  // Plain loops: an expect() per sample would cost seconds on the 100k-record file.
  for (let i = 1; i < s.length; i++) {
    if (!(s.t[i]! >= s.t[i - 1]!)) throw new Error(`t goes back at ${i}`);
    if (!Number.isFinite(s.timestamp[i])) throw new Error(`timestamp missing at ${i}`);
  }
  for (const c of CHANNELS) {
    const [min, max] = PLAUSIBLE[c];
    let valid = 0;
    for (let i = 0; i < s.length; i++) {
      const v = s[c][i]!;
      if (Number.isNaN(v)) continue;
      valid++;
      if (v < min || v > max) throw new Error(`${c}[${i}] = ${v} outside ${min}..${max}`);
    }
    expect(run.channels.includes(c), `channel ${c} listed iff it has a value`).toBe(valid > 0);
  }
  for (let i = 0; i < s.length; i++) {
    const lat = s.lat[i]!;
    const lon = s.lon[i]!;
    if (Number.isNaN(lat) !== Number.isNaN(lon)) throw new Error(`half a position at ${i}`);
    if (!Number.isNaN(lat) && !isPosition(lat, lon)) throw new Error(`position ${lat},${lon} at ${i}`);
  }
  expect(run.meta.elapsedS).toBe(s.t[s.length - 1]);
  expect(run.meta.timerS).toBeLessThanOrEqual(run.meta.elapsedS);
  expect(run.meta.legs.length).toBeGreaterThan(0);
  for (const w of run.warnings) expect(w.message).not.toContain('\n');
  for (let i = 1; i < run.events.length; i++) expect(run.events[i]!.t).toBeGreaterThanOrEqual(run.events[i - 1]!.t);
  // Structured-clone friendly (what a worker thread hands back): typed arrays survive as typed arrays.
  const clone = structuredClone(run);
  expect(clone.meta).toEqual(run.meta);
  expect(clone.samples.hr).toBeInstanceOf(Float64Array);
  expect(clone.samples.hr.length).toBe(s.length);
}


/** Recomputes the file CRC so that a mutation reaches the decoder instead of stopping at the CRC check. */
export function withValidCrc(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 14) return bytes;
  const out = new Uint8Array(bytes);
  const dataEnd = out[0]! + new DataView(out.buffer).getUint32(4, true);
  if (dataEnd + 2 <= out.length) new DataView(out.buffer).setUint16(dataEnd, fitCrc(out, 0, dataEnd), true);
  return out;
}
