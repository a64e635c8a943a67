/**
 * Property tests over mutated and truncated real FIT files (seeded): whatever the bytes, decodeFit gives
 * a run that satisfies the invariants, or an IngestError with a known code and a one-line message;
 * never another exception, a hang or a crash. The worker entry turns every failure into data.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Piscina } from 'piscina';
import { afterAll, describe, expect, it } from 'vitest';
import { FIT_ERROR_CODES, IngestError } from '../../ingest/errors.js';
import { decodeFit } from '../../ingest/fit.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { XML_FIXTURES, xmlFixture } from './activity-files.js';
import { checkRun, fixture, withValidCrc } from './fit-files.js';
import { workerExecArgv } from '../../src/server/analyzer.js';


const base = fixture('dtcooper__python-fitparse/garmin-fenix-5-run.fit');


async function outcome(bytes: Uint8Array, allowBadCrc: boolean): Promise<NormalizedRun | IngestError> {
  try {
    return await decodeFit(bytes, { allowBadCrc });
  } catch (err) {
    if (!(err instanceof IngestError)) throw new Error(`not an IngestError: ${String(err)}`);
    expect(FIT_ERROR_CODES).toContain(err.code);
    expect(err.message).not.toMatch(/\n|^$/);
    return err;
  }
}

const mutation = fc.record({
  edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
  fixCrc: fc.boolean(),
  allowBadCrc: fc.boolean(),
});

describe('mutated and truncated real files: a clean result or a clean IngestError', () => {
  it('random byte edits (CRC fixed or not)', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async ({ edits, fixCrc, allowBadCrc }) => {
        const bytes = new Uint8Array(base);
        for (const e of edits) bytes[e.at % bytes.length] = e.value;
        const result = await outcome(fixCrc ? withValidCrc(bytes) : bytes, allowBadCrc);
        if (!(result instanceof IngestError)) checkRun(result);
      }),
      { seed: 20_260_611, numRuns: 250 },
    );
  });

  it('edits confined to the data, CRC fixed: the decoder itself must cope', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: 14, max: base.length - 3 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        async (edits) => {
          const bytes = new Uint8Array(base);
          for (const e of edits) bytes[e.at] = e.value;
          const result = await outcome(withValidCrc(bytes), false);
          if (!(result instanceof IngestError)) checkRun(result);
        },
      ),
      { seed: 7, numRuns: 250 },
    );
  });

  it('cut anywhere: never fails unless not even one record fits', async () => {
    const full = await decodeFit(base);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: base.length }), async (cut) => {
        const result = await outcome(base.subarray(0, cut), false);
        if (result instanceof IngestError) {
          expect(['FIT_EMPTY', 'FIT_NOT_FIT', 'FIT_BAD_HEADER', 'FIT_TRUNCATED', 'FIT_NO_RECORDS']).toContain(result.code);
          return;
        }
        checkRun(result);
        expect(result.samples.length).toBeLessThanOrEqual(full.samples.length);
        // Whatever was kept is the start of the full run.
        expect(Array.from(result.samples.hr)).toEqual(Array.from(full.samples.hr.subarray(0, result.samples.length)));
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('activity-worker (piscina)', () => {
  const pool = new Piscina({
    filename: fileURLToPath(new URL('../../dist/ingest/activity-worker.js', import.meta.url)),
    maxThreads: 1,
    ...(workerExecArgv() ? { execArgv: workerExecArgv() } : {}), // as the server's pool: import(), not require(esm)
  });
  afterAll(() => pool.destroy());

  it('decodes off the main thread and returns typed arrays', async () => {
    const run = (await pool.run(base)) as NormalizedRun;
    const local = await decodeFit(base);
    expect(run.samples.hr).toBeInstanceOf(Float64Array);
    expect(Array.from(run.samples.hr)).toEqual(Array.from(local.samples.hr));
    expect(run.meta).toEqual(local.meta);
  });

  it('decodes GPX and gzipped TCX too (the content decides)', async () => {
    const gpx = (await pool.run(xmlFixture(XML_FIXTURES.gpxGarmin))) as NormalizedRun;
    expect(gpx.samples.lat).toBeInstanceOf(Float64Array);
    expect(gpx.samples.lat[0]).toBeCloseTo(22.552996091544628, 12);
    const tcx = (await pool.run(new Uint8Array(gzipSync(xmlFixture(XML_FIXTURES.tcxTpx))))) as NormalizedRun;
    expect(tcx.channels).toContain('cadence');
    await expect(pool.run(new TextEncoder().encode('<kml/>'))).resolves.toMatchObject({ error: { code: 'XML_UNSUPPORTED' } });
  });

  it('returns errors as data, never throws', async () => {
    await expect(pool.run(new Uint8Array(0))).resolves.toEqual({ error: { code: 'FIT_EMPTY', message: 'empty file: zero bytes' } });
    const corrupt = new Uint8Array(base);
    corrupt[500] = corrupt[500]! ^ 0xff;
    await expect(pool.run(corrupt)).resolves.toMatchObject({ error: { code: 'FIT_CRC_MISMATCH' } });
  });
});
