/**
 * Property tests over mutated and cut real GPX and TCX files, plain and gzipped (seeded): whatever the bytes,
 * decodeActivity gives a run that satisfies the invariants, or an IngestError with a listed code and a one-line
 * message; never another exception.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeActivitySync } from '../../ingest/decode.js';
import { IngestError } from '../../ingest/errors.js';
import { outcomeOf, XML_FIXTURES, xmlFixture } from './activity-files.js';
import { checkRun } from './fit-files.js';

const gpx = xmlFixture(XML_FIXTURES.gpxHrOnly);
const tcx = xmlFixture(XML_FIXTURES.tcxPlain);

function check(bytes: Uint8Array): void {
  const result = outcomeOf(() => decodeActivitySync(bytes));
  if (!(result instanceof IngestError)) checkRun(result);
}

/** Byte edits biased to XML's own characters, so that tags, attributes and numbers break, not just text. */
const XML_BYTES = [...'<>/="\'&;:!?-. 0123456789eE'].map((c) => c.charCodeAt(0));
const edit = fc.record({
  at: fc.nat(),
  value: fc.oneof(fc.constantFrom(...XML_BYTES), fc.integer({ min: 0, max: 255 })),
});
/** Structural edits: delete, duplicate or move a range (a tag, a point, half a file). */
const splice = fc.record({ from: fc.nat(), length: fc.integer({ min: 1, max: 4000 }), kind: fc.constantFrom('delete', 'duplicate', 'move') });

function applySplice(bytes: Uint8Array, s: { from: number; length: number; kind: string }, to: number): Uint8Array {
  const a = s.from % bytes.length;
  const b = Math.min(bytes.length, a + s.length);
  const range = bytes.subarray(a, b);
  if (s.kind === 'delete') return Buffer.concat([bytes.subarray(0, a), bytes.subarray(b)]);
  if (s.kind === 'duplicate') return Buffer.concat([bytes.subarray(0, b), range, bytes.subarray(b)]);
  const rest = Buffer.concat([bytes.subarray(0, a), bytes.subarray(b)]);
  const at = to % (rest.length + 1);
  return Buffer.concat([rest.subarray(0, at), range, rest.subarray(at)]);
}

describe.each([
  ['GPX', gpx],
  ['TCX', tcx],
] as const)('mutated %s: a clean run or a clean IngestError', (_name, base) => {
  it('byte edits', () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 8 }), (edits) => {
        const bytes = new Uint8Array(base);
        for (const e of edits) bytes[e.at % bytes.length] = e.value;
        check(bytes);
      }),
      { seed: 20_261_201, numRuns: 120 },
    );
  });

  it('ranges deleted, duplicated, moved; then maybe gzipped', () => {
    fc.assert(
      fc.property(fc.array(splice, { minLength: 1, maxLength: 3 }), fc.nat(), fc.boolean(), (splices, to, gz) => {
        let bytes: Uint8Array = base;
        for (const s of splices) bytes = applySplice(bytes, s, to);
        check(gz ? gzipSync(bytes) : bytes);
      }),
      { seed: 15, numRuns: 120 },
    );
  });

  it('cut anywhere (plain or gzipped): what is kept is the start of the full run', () => {
    const full = decodeActivitySync(base);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: base.length }), fc.boolean(), (cut, gz) => {
        const bytes = gz ? gzipSync(base).subarray(0, Math.floor((cut / base.length) * gzipSync(base).length)) : base.subarray(0, cut);
        const result = outcomeOf(() => decodeActivitySync(bytes));
        if (result instanceof IngestError) return;
        checkRun(result);
        expect(result.samples.length).toBeLessThanOrEqual(full.samples.length);
        expect(Array.from(result.samples.hr)).toEqual(Array.from(full.samples.hr.subarray(0, result.samples.length)));
        expect(Array.from(result.samples.lat)).toEqual(Array.from(full.samples.lat.subarray(0, result.samples.length)));
      }),
      { seed: 42, numRuns: 80 },
    );
  });
});
