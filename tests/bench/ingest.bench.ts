/**
 * FIT decode cost on the three largest fixtures: fit-file-parser's semantic parser (force: false, so it
 * checks the CRC as decodeFit does), its strict raw reader (`readFitMessages`, records only), and
 * decodeFit (framing + CRC + the same semantic parse + normalisation into typed columns).
 * The target: decodeFit at most 15 % slower than the semantic parser alone.
 * Also printed: bytes kept per record by fit-file-parser's result and by the NormalizedRun.
 * Run: `npx vitest bench --run tests/bench/ingest.bench.ts`
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import FitParser from 'fit-file-parser';
import { readFitMessages } from 'fit-file-parser/raw';
import { afterAll, bench, describe } from 'vitest';
import { decodeFit, parseSegment } from '../../ingest/fit.js';
import { frameFit } from '../../ingest/fit/frame.js';
import { recordsToColumns } from '../../ingest/fit/records.js';
import { WarningLog } from '../../ingest/fit/values.js';
import type { FitMessage } from '../../ingest/fit/values.js';
import type { NormalizedRun } from '../../ingest/sample.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/fit');
const FILES = [
  'muktihari__fit/big_activity.fit',
  'dtcooper__python-fitparse/activity-large-fenxi2-multisport.fit',
  'roznet__FitFileParser/running.fit',
];
const options = { time: 500, warmupIterations: 1, warmupTime: 0, iterations: 4 };
/** Alternating runs for the overhead figure: alternation cancels most of the drift of a shared machine. */
const PAIRS = 20;

function semantic(bytes: Uint8Array): Promise<unknown> {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return new FitParser({ force: false, mode: 'list' }).parseAsync((whole ? bytes : new Uint8Array(bytes)).buffer as ArrayBuffer);
}

for (const name of FILES) {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
  describe(`${name} (${(bytes.length / 1e6).toFixed(2)} MB)`, () => {
    bench('fit-file-parser semantic parse', async () => {
      await semantic(bytes);
    }, options);
    bench('fit-file-parser raw reader (readFitMessages, records)', () => {
      readFitMessages(bytes, { messageNumbers: [20] });
    }, options);
    bench('decodeFit (frame + parse + normalise)', async () => {
      await decodeFit(bytes);
    }, options);
    const records = (parseSegment(bytes).records ?? []) as FitMessage[];
    bench('  of which: frame (CRC + record walk)', () => {
      frameFit(bytes);
    }, options);
    bench('  of which: normalise parsed records', () => {
      recordsToColumns(records, new WarningLog());
    }, options);
  });
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Heap bytes that stay reachable while `hold` keeps the result of `make`, per record. */
async function retainedPerRecord(make: () => Promise<unknown>, records: number): Promise<number> {
  const gc = exposeGc();
  gc();
  gc();
  const before = process.memoryUsage();
  const kept = await make();
  gc();
  gc();
  const after = process.memoryUsage();
  const bytes = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  if (kept === undefined) throw new Error('nothing kept');
  return bytes / records;
}

function columnBytes(run: NormalizedRun): number {
  let total = 0;
  for (const v of Object.values(run.samples)) if (v instanceof Float64Array) total += v.byteLength;
  return total + (run.rr ? run.rr.t.byteLength + run.rr.ms.byteLength : 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** CPU and wall ms of one call. */
async function timed(f: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await f();
  const used = process.cpuUsage(cpu0);
  return { cpu: (used.user + used.system) / 1000, wall: performance.now() - wall0 };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

afterAll(async () => {
  const overhead: string[] = [];
  for (const name of FILES) {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
    const theirs: { cpu: number; wall: number }[] = [];
    const ours: { cpu: number; wall: number }[] = [];
    // Alternating single calls, with the garbage collector left to run when it would (each side's garbage
    // is collected inside later calls of both sides alike). No forced gc() between calls: V8's gc() for
    // testing also throws away compiled code and type feedback, so every call after it would start in the
    // interpreter; measured on the fenix2 file, normalising took 14 ms after gc() but 3.8 ms with the same
    // number of natural full collections in between.
    for (let k = 0; k < 2; k++) {
      await semantic(bytes);
      await decodeFit(bytes);
    }
    for (let k = 0; k < PAIRS; k++) {
      // Alternate which goes first, so drift and warm caches favour neither.
      if (k % 2 === 0) {
        theirs.push(await timed(() => semantic(bytes)));
        ours.push(await timed(() => decodeFit(bytes)));
      } else {
        ours.push(await timed(() => decodeFit(bytes)));
        theirs.push(await timed(() => semantic(bytes)));
      }
    }
    const cpuRatios = theirs.map((x, k) => ours[k]!.cpu / x.cpu);
    const total = sum(ours.map((x) => x.cpu)) / sum(theirs.map((x) => x.cpu));
    const ratio = median(cpuRatios);
    overhead.push(
      `${name}: CPU ms per decode, median: fit-file-parser ${median(theirs.map((x) => x.cpu)).toFixed(0)}, ` +
        `decodeFit ${median(ours.map((x) => x.cpu)).toFixed(0)}; median per-pair ratio ${ratio.toFixed(3)}, ` +
        `total CPU ratio ${total.toFixed(3)} (${PAIRS} alternating pairs; wall medians ` +
        `${median(theirs.map((x) => x.wall)).toFixed(0)} / ${median(ours.map((x) => x.wall)).toFixed(0)} ms) ` +
        `→ target ≤ 1.15 (median per-pair ratio) ${ratio <= 1.15 ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`\ndecodeFit vs fit-file-parser's own decode\n${overhead.join('\n')}`);
  const lines: string[] = [];
  for (const name of FILES) {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
    const run = await decodeFit(bytes);
    const n = run.samples.length;
    const parser = await retainedPerRecord(() => semantic(bytes), n);
    const ours = await retainedPerRecord(() => decodeFit(bytes), n);
    lines.push(
      `${name}: ${n} records; fit-file-parser result keeps ≈${parser.toFixed(0)} B/record, ` +
        `NormalizedRun keeps ≈${ours.toFixed(0)} B/record (typed columns ${(columnBytes(run) / n).toFixed(0)} B/record)`,
    );
  }
  console.log(`\nmemory kept per record\n${lines.join('\n')}`);
});
