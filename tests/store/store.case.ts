/**
 * The one contract suite every Store implementation passes (hono's `common.case.test.ts` model). It is not
 * collected by vitest on its own (`*.case.ts` is excluded); `sqlite.test.ts` and `postgres.test.ts` run it.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocColumns, SAMPLE_FIELDS, type NormalizedRun, type SampleColumns } from '../../ingest/sample.js';
import type { Alert, Report } from '../../alerts/types.js';
import { foldModel } from '../../src/athlete/model.js';
import { summarizeRun } from '../../src/athlete/summary.js';
import { encodeChunkOf } from '../../src/store/codec.js';
import { LATEST_VERSION } from '../../src/store/migrations.js';
import { StoreError, UPLOAD_CHUNK_ROWS, type SampleBatch, type Store } from '../../src/store/types.js';

/** A database the suite can open several handles on. */
export interface StoreLocation {
  /** A new store handle on the same database (runs migrations like any open). */
  open(): Promise<Store>;
  /** Rows in a table, read behind the store's back: proves cascades really removed data. */
  countRows(table: string): Promise<number>;
  /** Runs SQL behind the store's back (e.g. to make a row look as an older build stored it); its rows. */
  sql(text: string): Promise<Record<string, unknown>[]>;
  destroy(): Promise<void>;
}

// Fixtures -------------------------------------------------------------------------------------------------

/** Deterministic pseudo-random columns with NaN holes in every field and an all-NaN `power`. */
export function makeColumns(length: number, seed: number, t0 = 0): SampleColumns {
  const cols = allocColumns(length);
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < length; i++) {
    cols.t[i] = t0 + i;
    cols.timestamp[i] = 1.7e12 + (t0 + i) * 1000;
    cols.hr[i] = rand() < 0.1 ? NaN : 120 + rand() * 60;
    cols.cadence[i] = rand() < 0.1 ? NaN : 160 + rand() * 20;
    cols.speed[i] = rand() < 0.05 ? NaN : 2 + rand() * 3;
    cols.distance[i] = i * 3.1;
    cols.altitude[i] = rand() < 0.5 ? NaN : 100 + rand();
    cols.temperature[i] = rand() < 0.9 ? NaN : 20 + rand() * 10;
    cols.respiration[i] = i === length - 1 ? 30 : NaN; // one value only: must not be dropped
    // power stays NaN throughout: an absent channel
  }
  return cols;
}

/** Exact comparison: same length, and the same float64 bit patterns per field (NaN included). */
function expectSameColumns(actual: SampleColumns | null, expected: SampleColumns): void {
  expect(actual).not.toBeNull();
  expect(actual!.length).toBe(expected.length);
  for (const field of SAMPLE_FIELDS) {
    const a = actual![field];
    const e = expected[field];
    expect(a.length, field).toBe(e.length);
    for (let i = 0; i < e.length; i++) {
      if (!Object.is(a[i], e[i])) throw new Error(`${field}[${i}]: expected ${e[i]}, got ${a[i]}`);
    }
  }
}

function concatColumns(parts: SampleColumns[]): SampleColumns {
  const out = allocColumns(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    for (const field of SAMPLE_FIELDS) out[field].set(part[field], at);
    at += part.length;
  }
  return out;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function report(durationS: number, extra: Record<string, unknown> = {}): Report {
  return {
    ok: true,
    sport: 'running',
    startTime: '2026-05-01T07:00:00.000Z',
    durationS,
    movingTimeS: durationS,
    distanceM: durationS * 3,
    channels: ['hr', 'speed'],
    warnings: [],
    metrics: {
      decouplingPct: 4.2,
      efFirstHalf: null,
      efSecondHalf: null,
      hrDriftBpmPerHour: null,
      cadenceChangePct: null,
      trimp: 80,
      estSweatLossMl: null,
      estSodiumLossMg: null,
    },
    alerts: [],
    risk: [{ t: 60, score: 12, factors: ['fast_start'] }],
    ...extra,
  };
}

function normalizedRun(samples: SampleColumns): NormalizedRun {
  return {
    meta: {
      sport: 'running',
      subSport: null,
      manufacturer: 'garmin',
      product: null,
      startTime: '2026-05-01T07:00:00.000Z',
      elapsedS: samples.length,
      timerS: samples.length,
      distanceM: 1000,
      laps: [],
      pauses: [],
      legs: [],
    },
    samples,
    rr: null,
    events: [
      { t: 30, type: 'drink', ml: 150 },
      { t: 10, type: 'lap' },
    ],
    channels: ['hr', 'cadence', 'speed'],
    warnings: [],
  };
}

function alert(id: string, t: number): Alert {
  return { id, t, kind: 'hydrate', cause: 'fluid_gap', message: 'Drink a few sips', why: 'No drink for 40 min', severity: 'info' };
}

async function expectStoreError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
}

// The suite ------------------------------------------------------------------------------------------------

export function runStoreContract(name: string, newLocation: () => Promise<StoreLocation>): void {
  describe(`Store contract: ${name}`, () => {
    let location: StoreLocation;
    let store: Store;

    beforeAll(async () => {
      location = await newLocation();
      store = await location.open();
    });
    afterAll(async () => {
      await store?.close();
      await location?.destroy();
    });

    const athlete = async (label = 'Runner') => (await store.createAthlete({ name: label })).athlete.id;
    const liveRun = async (athleteId: string, clientRunId = `watch-${randomBytes(4).toString('hex')}`) =>
      (await store.startLiveRun(athleteId, { clientRunId })).run.id;
    const batch = (athleteId: string, runId: string, seq: number, samples = makeColumns(5, seq, seq * 5)): SampleBatch => ({
      athleteId,
      runId,
      seq,
      samples,
    });

    describe('accounts', () => {
      it('issues a token once and authenticates by it', async () => {
        const { athlete: created, token } = await store.createAthlete({ name: 'Ana', profile: { hrMax: 190 } });
        expect(token).toMatch(/^cg_[A-Za-z0-9_-]{43}$/);
        const found = await store.authenticate(token);
        expect(found).toEqual(created);
        expect(found!.profile).toEqual({ hrMax: 190 });
        expect(await store.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeNull();
        expect(await store.authenticate('')).toBeNull();
        const other = await store.createAthlete({ name: 'Ana' });
        expect(other.token).not.toBe(token);
        expect(other.athlete.id).not.toBe(created.id);
      });

      it('updates a profile and refuses a nameless athlete', async () => {
        const id = await athlete();
        const updated = await store.updateAthleteProfile(id, { massKg: 61, sex: 'female' });
        expect(updated?.profile).toEqual({ massKg: 61, sex: 'female' });
        expect((await store.getAthlete(id))?.profile).toEqual({ massKg: 61, sex: 'female' });
        expect(await store.updateAthleteProfile('no-such-athlete', {})).toBeNull();
        await expectStoreError(store.createAthlete({ name: '' }), 'STORE_BAD_INPUT');
      });
    });

    describe('runs', () => {
      it('stores an upload once per file per athlete', async () => {
        const a = await athlete();
        const b = await athlete();
        const cols = makeColumns(100, 7);
        const input = { fileSha256: sha('file-1'), run: normalizedRun(cols), report: report(100), name: 'Sunday long' };
        const first = await store.createUploadedRun(a, input);
        expect(first.created).toBe(true);
        expect(first.run).toMatchObject({
          athleteId: a,
          source: 'upload',
          status: 'ended',
          name: 'Sunday long',
          fileSha256: sha('file-1'),
          sampleCount: 100,
          contiguousSeq: 1,
          durationS: 100,
          distanceM: 300,
          startTime: '2026-05-01T07:00:00.000Z',
        });
        expect(first.run.report).toEqual(report(100));
        expect(first.run.meta).toEqual(input.run.meta);

        const again = await store.createUploadedRun(a, { ...input, report: report(999) });
        expect(again).toEqual({ run: first.run, created: false });
        expect((await store.findRunByFileSha(a, sha('file-1')))?.id).toBe(first.run.id);

        const theirs = await store.createUploadedRun(b, input);
        expect(theirs.created).toBe(true);
        expect(theirs.run.id).not.toBe(first.run.id);
        expect(await store.findRunByFileSha(b, sha('nope'))).toBeNull();
        await expectStoreError(store.createUploadedRun(a, { ...input, fileSha256: 'xyz' }), 'STORE_BAD_INPUT');
      });

      it('stores an upload encoded ahead (by the upload worker) as it stores the columns, and refuses chunks of other rows', async () => {
        const a = await athlete();
        const cols = makeColumns(UPLOAD_CHUNK_ROWS + 30, 3);
        const ranges = [[0, UPLOAD_CHUNK_ROWS], [UPLOAD_CHUNK_ROWS, cols.length]] as const;
        const chunks = ranges.map(([start, end]) => encodeChunkOf(cols, start, end));
        const input = { fileSha256: sha('encoded'), run: normalizedRun(cols), chunks, report: report(100) };
        const { run } = await store.createUploadedRun(a, input);
        expectSameColumns(await store.readSamples(a, run.id), cols);
        expect(run.sampleCount).toBe(cols.length);

        // Too few, out of order, rows of another run.
        const wrong = [[chunks[0]!], [chunks[1]!, chunks[0]!], [chunks[0]!, encodeChunkOf(makeColumns(30, 4), 0, 30)]];
        for (const [i, given] of wrong.entries()) {
          await expectStoreError(store.createUploadedRun(a, { ...input, fileSha256: sha(`wrong-${i}`), chunks: given }), 'STORE_BAD_INPUT');
          expect(await store.findRunByFileSha(a, sha(`wrong-${i}`))).toBeNull();
        }
      });

      it('gives concurrent uploads of the same bytes one run', async () => {
        const a = await athlete();
        const input = { fileSha256: sha('same-bytes'), run: normalizedRun(makeColumns(50, 3)), report: report(50) };
        const results = await Promise.all([1, 2, 3, 4].map(() => store.createUploadedRun(a, input)));
        expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect((await store.listRuns(a)).items).toHaveLength(1);
      });

      it('opens a live run once per client run id, and ends it with its report', async () => {
        const a = await athlete();
        const b = await athlete();
        const first = await store.startLiveRun(a, { clientRunId: 'w-1', options: { sessionKind: 'long' } });
        expect(first.created).toBe(true);
        expect(first.run).toMatchObject({ source: 'live', status: 'live', clientRunId: 'w-1', contiguousSeq: 0, endedAt: null });
        expect(first.run.options).toEqual({ sessionKind: 'long' });
        const again = await store.startLiveRun(a, { clientRunId: 'w-1' });
        expect(again).toEqual({ run: first.run, created: false });
        const concurrent = await Promise.all([1, 2, 3].map(() => store.startLiveRun(a, { clientRunId: 'w-2' })));
        expect(new Set(concurrent.map((c) => c.run.id)).size).toBe(1);
        expect(concurrent.filter((c) => c.created)).toHaveLength(1);
        const theirs = await store.startLiveRun(b, { clientRunId: 'w-1' });
        expect(theirs.run.id).not.toBe(first.run.id);

        const ended = await store.endLiveRun(a, first.run.id, { report: report(1800) });
        expect(ended).toMatchObject({ status: 'ended', durationS: 1800, distanceM: 5400 });
        expect(ended!.report).toEqual(report(1800));
        expect(ended!.endedAt).not.toBeNull();
        const reEnded = await store.endLiveRun(a, first.run.id, { report: report(1801) });
        expect(reEnded!.endedAt).toBe(ended!.endedAt);
        expect(reEnded!.report?.durationS).toBe(1801);
        expect(await store.endLiveRun(b, first.run.id, { report: report(1) })).toBeNull();
        expect(await store.setReport(a, first.run.id, report(2000, { note: 'reanalysed' }))).toBe(true);
        expect((await store.getRun(a, first.run.id))?.report).toEqual(report(2000, { note: 'reanalysed' }));
        expect(await store.setReport(b, first.run.id, report(1))).toBe(false);
      });

      it('lists runs newest first in pages, optionally by status', async () => {
        const a = await athlete();
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await liveRun(a, `page-${i}`));
        // No start time anywhere: listed by creation (a report with a start would place the run at it).
        await store.endLiveRun(a, ids[1]!, { report: report(10, { startTime: null }) });
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listRuns(a, { limit: 2, ...(cursor ? { before: cursor } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items.map((r) => r.id));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor);
        expect(pages).toBe(3);
        expect(seen).toEqual([...ids].reverse());
        const live = await store.listRuns(a, { status: 'live' });
        expect(live.items.map((r) => r.id)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
        expect(live.nextCursor).toBeNull();
        expect((await store.listRuns(a, { status: 'ended' })).items.map((r) => r.id)).toEqual([ids[1]]);
        await expectStoreError(store.listRuns(a, { before: 'garbage' }), 'STORE_BAD_INPUT');
        await expectStoreError(store.listRuns(a, { limit: 0 }), 'STORE_BAD_INPUT');
      });

      it("lists runs by their own start, not by upload time, with sport and pace; a replay is left out", async () => {
        const a = await athlete();
        const upload = (label: string, startTime: string, extra: Record<string, unknown> = {}) =>
          store
            .createUploadedRun(a, {
              fileSha256: sha(`${a}-${label}`),
              run: { ...normalizedRun(makeColumns(20, 5)), meta: { ...normalizedRun(makeColumns(1, 1)).meta, startTime } },
              report: report(1200, { startTime, ...extra }),
            })
            .then((r) => r.run.id);
        // Uploaded newest first, so creation order is the reverse of start order.
        const june = await upload('june', '2026-06-01T07:00:00.000Z', { metrics: { avgPaceSPerKm: 301.5 } });
        const may = await upload('may', '2026-05-01T07:00:00.000Z', { sport: 'trail_running' });
        const april = await upload('april', '2026-04-01T07:00:00.000Z', { distanceM: null });
        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listRuns(a, { limit: 2, ...(cursor ? { before: cursor } : {}) });
          pages.push(page.items.map((r) => r.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(pages).toEqual([[june, may], [april]]);
        const listed = (await store.listRuns(a)).items;
        expect(listed.map((r) => [r.sport, r.paceSPerKm])).toEqual([
          ['running', 301.5],
          ['trail_running', 1200 / 3.6],
          ['running', null],
        ]);

        // A live run starting at the instant a stored run started replays it: kept, but not listed twice.
        const replay = await store.startLiveRun(a, { clientRunId: `replay-${a}`, startTime: '2026-05-01T07:00:00.000Z' });
        expect(replay.run.replayOf).toBe(may);
        const fresh = await store.startLiveRun(a, { clientRunId: `fresh-${a}`, startTime: '2026-07-01T07:00:00.000Z' });
        expect(fresh.run.replayOf).toBeNull();
        expect((await store.listRuns(a)).items.map((r) => r.id)).toEqual([fresh.run.id, june, may, april]);
        expect((await store.listRuns(a, { status: 'live' })).items.map((r) => r.id)).toEqual([fresh.run.id, replay.run.id]);
        await store.endLiveRun(a, replay.run.id, { report: report(60) });
        expect((await store.listRuns(a)).items.map((r) => r.id)).not.toContain(replay.run.id);
        expect((await store.getRun(a, replay.run.id))?.replayOf).toBe(may);

        // Same-activity candidates: by start within the tolerance, with their meta, oldest first.
        const near = await store.findRunsStartingNear(a, '2026-05-01T07:00:30.000Z', 60_000);
        expect(near.map((r) => r.id)).toEqual([may, replay.run.id]);
        expect(near[0]!.meta?.manufacturer).toBe('garmin');
        expect(await store.findRunsStartingNear(a, '2026-05-01T07:02:00.000Z', 60_000)).toEqual([]);
        expect(await store.findRunsStartingNear(await athlete(), '2026-05-01T07:00:00.000Z', 60_000)).toEqual([]);
      });
    });

    describe('report highlights in the summary', () => {
      const risk = (...scores: number[]) => scores.map((score, i) => ({ t: 60 * (i + 1), score, factors: [] }));
      const highlights = async (a: string) =>
        Object.fromEntries((await store.listRuns(a)).items.map((r) => [r.id, [r.prompts, r.peakRisk]]));
      /** The stored columns, read behind the store's back. */
      const columns = async (ids: string[]) =>
        Object.fromEntries(
          (await location.sql(`SELECT id, prompts, peak_risk FROM runs WHERE id IN (${ids.map((id) => `'${id}'`).join(', ')})`)).map(
            (row) => [row.id, [row.prompts === null ? null : Number(row.prompts), row.peak_risk === null ? null : Number(row.peak_risk)]],
          ),
        );

      it('lists the prompt count and peak risk of uploaded, ended live and re-analysed runs', async () => {
        const a = await athlete();
        const upload = await store.createUploadedRun(a, {
          fileSha256: sha('highlights-upload'),
          run: normalizedRun(makeColumns(20, 5)),
          report: report(20, { alerts: [alert('a1', 10), alert('a2', 15)], risk: risk(12, 47.5, 30) }),
        });
        expect(upload.run).toMatchObject({ prompts: 2, peakRisk: 47.5 });
        const quiet = await store.createUploadedRun(a, { fileSha256: sha('highlights-quiet'), run: normalizedRun(makeColumns(5, 6)), report: report(5, { risk: [] }) });
        const live = await liveRun(a);
        const going = await liveRun(a);
        expect(await highlights(a)).toEqual({
          [upload.run.id]: [2, 47.5],
          [quiet.run.id]: [0, null],
          [live]: [null, null],
          [going]: [null, null],
        });

        const ended = await store.endLiveRun(a, live, { report: report(60, { alerts: [alert('b1', 30)], risk: risk(20, 61.25) }) });
        expect(ended).toMatchObject({ prompts: 1, peakRisk: 61.25 });
        expect((await highlights(a))[live]).toEqual([1, 61.25]);
        await store.setReport(a, live, report(60, { alerts: [], risk: risk(8) }));
        expect((await highlights(a))[live]).toEqual([0, 8]);
        expect((await store.getRun(a, live))).toMatchObject({ prompts: 0, peakRisk: 8 });
        expect(await columns([upload.run.id, quiet.run.id, live, going])).toEqual({
          [upload.run.id]: [2, 47.5],
          [quiet.run.id]: [0, null],
          [live]: [0, 8],
          [going]: [null, null],
        });
      });

      it('fills the highlights of rows stored before they were kept, once, from the report', async () => {
        const a = await athlete();
        const old = await store.createUploadedRun(a, {
          fileSha256: sha('highlights-old'),
          run: normalizedRun(makeColumns(20, 8)),
          report: report(20, { alerts: [alert('c1', 5), alert('c2', 6), alert('c3', 7)], risk: risk(3, 88, 10) }),
        });
        const oldLive = await liveRun(a);
        await store.endLiveRun(a, oldLive, { report: report(30, { risk: [] }) });
        const going = await liveRun(a);
        const ids = [old.run.id, oldLive, going];
        // As a build before migration 3 left them: a report, no highlight columns.
        await location.sql(`UPDATE runs SET prompts = NULL, peak_risk = NULL WHERE id IN ('${old.run.id}', '${oldLive}')`);
        expect(await columns(ids)).toEqual({ [old.run.id]: [null, null], [oldLive]: [null, null], [going]: [null, null] });
        // A record has its report at hand: it shows them even before the list filled the columns.
        expect(await store.getRun(a, old.run.id)).toMatchObject({ prompts: 3, peakRisk: 88 });

        const expected = { [old.run.id]: [3, 88], [oldLive]: [0, null], [going]: [null, null] };
        expect(await highlights(a)).toEqual(expected);
        // Written back, so the next list reads no report; a run without a report stays as it was.
        expect(await columns(ids)).toEqual({ [old.run.id]: [3, 88], [oldLive]: [0, null], [going]: [null, null] });
        expect(await highlights(a)).toEqual(expected);
        // A page fills only what it shows.
        await location.sql(`UPDATE runs SET prompts = NULL, peak_risk = NULL WHERE id IN ('${old.run.id}', '${oldLive}')`);
        expect((await store.listRuns(a, { limit: 2 })).items.map((r) => r.id)).toEqual([going, oldLive]);
        expect(await columns(ids)).toEqual({ [old.run.id]: [null, null], [oldLive]: [0, null], [going]: [null, null] });
      });
    });

    describe('athlete isolation: a foreign run behaves exactly like a missing one', () => {
      it('hides and protects every part of A’s run from B', async () => {
        const a = await athlete('A');
        const b = await athlete('B');
        const run = await liveRun(a);
        await store.appendSampleBatches([batch(a, run, 1)]);
        await store.appendEvents(a, run, [{ key: 'e1', event: { t: 3, type: 'drink', ml: 100 } }]);
        await store.appendAlerts(a, run, [alert('x', 3)]);
        await store.saveCheckpoint(a, run, 1, { version: 1 });
        const entry = await store.addJournalEntry(a, { runId: run, muscle: 'calf', severity: 3 });

        const missing = 'no-such-run';
        for (const id of [run, missing]) {
          expect(await store.getRun(b, id)).toBeNull();
          expect(await store.readSamples(b, id)).toBeNull();
          expect(await store.listEvents(b, id)).toBeNull();
          expect(await store.appendEvents(b, id, [{ key: 'e2', event: { t: 4, type: 'lap' } }])).toBeNull();
          expect(await store.listAlerts(b, id)).toBeNull();
          expect(await store.appendAlerts(b, id, [alert('y', 4)])).toBeNull();
          expect(await store.markAlertsDelivered(b, id, 1)).toBe(false);
          expect(await store.getCheckpoint(b, id)).toBeNull();
          expect(await store.saveCheckpoint(b, id, 9, { version: 1 })).toBe(false);
          expect(await store.endLiveRun(b, id, { report: report(1) })).toBeNull();
          expect(await store.deleteRun(b, id)).toBe(false);
          expect(await store.addJournalEntry(b, { runId: id, muscle: 'calf', severity: 1 })).toBeNull();
          expect(await store.appendSampleBatches([batch(b, id, 2)])).toEqual([
            { runId: id, seq: 2, status: 'not_found', contiguousSeq: 0 },
          ]);
        }
        expect((await store.listRuns(b)).items).toEqual([]);
        expect((await store.listJournal(b)).items).toEqual([]);
        expect(await store.getJournalEntry(b, entry!.id)).toBeNull();
        expect(await store.deleteJournalEntry(b, entry!.id)).toBe(false);

        // A's data is untouched by all of the above.
        const mine = await store.getRun(a, run);
        expect(mine).toMatchObject({ status: 'live', contiguousSeq: 1, sampleCount: 5, alertsDeliveredThrough: 0 });
        expect(await store.listEvents(a, run)).toHaveLength(1);
        expect(await store.listAlerts(a, run)).toHaveLength(1);
        expect((await store.getCheckpoint(a, run))?.seq).toBe(1);
        expect(await store.getJournalEntry(a, entry!.id)).not.toBeNull();
      });
    });

    describe('samples', () => {
      it('round-trips an upload exactly across many chunks (NaN and order kept)', async () => {
        const a = await athlete();
        const cols = makeColumns(UPLOAD_CHUNK_ROWS * 2 + 17, 42);
        const { run } = await store.createUploadedRun(a, { fileSha256: sha('big'), run: normalizedRun(cols), report: report(1) });
        expect(run.contiguousSeq).toBe(3);
        expect(run.sampleCount).toBe(cols.length);
        expectSameColumns(await store.readSamples(a, run.id), cols);
        expect(await location.countRows('sample_chunks')).toBeGreaterThanOrEqual(3);
      });

      it('stores an empty upload and reads it back as zero rows', async () => {
        const a = await athlete();
        const { run } = await store.createUploadedRun(a, { fileSha256: sha('empty'), run: normalizedRun(allocColumns(0)), report: report(0) });
        expect(run).toMatchObject({ sampleCount: 0, contiguousSeq: 0 });
        expect((await store.readSamples(a, run.id))?.length).toBe(0);
      });

      it('ignores a batch whose seq is already stored', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        const original = makeColumns(8, 1);
        expect(await store.appendSampleBatches([batch(a, run, 1, original)])).toEqual([
          { runId: run, seq: 1, status: 'stored', contiguousSeq: 1 },
        ]);
        const impostor = makeColumns(3, 2);
        expect(await store.appendSampleBatches([batch(a, run, 1, impostor), batch(a, run, 1, impostor)])).toEqual([
          { runId: run, seq: 1, status: 'duplicate', contiguousSeq: 1 },
          { runId: run, seq: 1, status: 'duplicate', contiguousSeq: 1 },
        ]);
        expectSameColumns(await store.readSamples(a, run), original);
        expect((await store.getRun(a, run))?.sampleCount).toBe(8);
      });

      it('tracks the highest contiguous seq through out-of-order batches and reads in seq order', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        const parts = [1, 2, 3, 4, 5].map((seq) => makeColumns(4, seq, (seq - 1) * 4));
        const results1 = await store.appendSampleBatches([batch(a, run, 1, parts[0]), batch(a, run, 3, parts[2])]);
        expect(results1.map((r) => [r.status, r.contiguousSeq])).toEqual([
          ['stored', 1],
          ['stored', 1],
        ]);
        expect((await store.appendSampleBatches([batch(a, run, 5, parts[4])]))[0]?.contiguousSeq).toBe(1);
        // Seq 2 fills the gap: the mark jumps over 3 to 3, not past the hole at 4.
        expect((await store.appendSampleBatches([batch(a, run, 2, parts[1])]))[0]?.contiguousSeq).toBe(3);
        expectSameColumns(await store.readSamples(a, run, { contiguousOnly: true }), concatColumns(parts.slice(0, 3)));
        expectSameColumns(await store.readSamples(a, run), concatColumns([parts[0]!, parts[1]!, parts[2]!, parts[4]!]));
        expect((await store.appendSampleBatches([batch(a, run, 4, parts[3])]))[0]?.contiguousSeq).toBe(5);
        expectSameColumns(await store.readSamples(a, run), concatColumns(parts));
        expectSameColumns(await store.readSamples(a, run, { afterSeq: 3 }), concatColumns(parts.slice(3)));
        expectSameColumns(await store.readSamples(a, run, { afterSeq: 1, throughSeq: 2 }), parts[1]!);
        expect((await store.getRun(a, run))?.sampleCount).toBe(20);
      });

      it('matches a model of the contiguous mark for any arrival order', async () => {
        const a = await athlete();
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
            async (calls) => {
              const run = await liveRun(a);
              const stored = new Set<number>();
              for (const seqs of calls) {
                const results = await store.appendSampleBatches(seqs.map((seq) => batch(a, run, seq, makeColumns(1, seq, seq))));
                let contiguous = 0;
                seqs.forEach((seq, i) => {
                  expect(results[i]?.status).toBe(stored.has(seq) ? 'duplicate' : 'stored');
                  stored.add(seq);
                });
                while (stored.has(contiguous + 1)) contiguous++;
                for (const r of results) expect(r.contiguousSeq).toBe(contiguous);
              }
              const back = await store.readSamples(a, run);
              expect(Array.from(back!.t)).toEqual([...stored].sort((x, y) => x - y));
            },
          ),
          { numRuns: 15 },
        );
      });

      it('refuses new batches on an ended run but still answers duplicates', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        await store.appendSampleBatches([batch(a, run, 1)]);
        await store.endLiveRun(a, run, { report: report(5) });
        const results = await store.appendSampleBatches([batch(a, run, 1), batch(a, run, 2)]);
        expect(results.map((r) => r.status)).toEqual(['duplicate', 'not_live']);
        expect((await store.getRun(a, run))?.sampleCount).toBe(5);
      });

      it('stores a batch encoded ahead of the transaction as it stores the same columns, and refuses a forged chunk', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        const parts = [makeColumns(4, 1, 0), makeColumns(4, 2, 4)];
        const good = encodeChunkOf(parts[1]!);
        const forged = { ...encodeChunkOf(parts[1]!), rows: 5 };
        const results = await store.appendSampleBatches([
          batch(a, run, 1, parts[0]),
          { athleteId: a, runId: run, seq: 3, samples: forged },
          { athleteId: a, runId: run, seq: 2, samples: good },
        ]);
        expect(results.map((r) => [r.status, r.contiguousSeq])).toEqual([['stored', 2], ['invalid', 2], ['stored', 2]]);
        const both = allocColumns(8);
        for (const f of SAMPLE_FIELDS) both[f] = Float64Array.from([...parts[0]![f], ...parts[1]![f]]);
        expectSameColumns(await store.readSamples(a, run), both);
        expect((await store.getRun(a, run))?.sampleCount).toBe(8);
      });

      it('rejects invalid batches one by one without failing the others', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        const short = makeColumns(3, 1);
        short.hr = new Float64Array(2);
        const results = await store.appendSampleBatches([
          batch(a, run, 0),
          batch(a, run, 1.5),
          batch(a, run, 2, allocColumns(0)),
          batch(a, run, 3, short),
          batch(a, run, 1),
        ]);
        expect(results.map((r) => r.status)).toEqual(['invalid', 'invalid', 'invalid', 'invalid', 'stored']);
        expect(results.every((r) => r.contiguousSeq === 1)).toBe(true);
        // Alone, an invalid batch still reports its run's mark; a foreign run's stays hidden.
        const other = await athlete();
        expect(await store.appendSampleBatches([batch(a, run, 0), batch(other, run, -1)])).toEqual([
          { runId: run, seq: 0, status: 'invalid', contiguousSeq: 1 },
          { runId: run, seq: -1, status: 'invalid', contiguousSeq: 0 },
        ]);
        expect(await store.appendSampleBatches([])).toEqual([]);
      });

      it('commits concurrent group commits for many runs exactly once', async () => {
        const a = await athlete();
        const runs = await Promise.all(Array.from({ length: 6 }, () => liveRun(a)));
        const batchesPerRun = 8;
        // Every call carries one batch of every run, seqs shuffled across calls; each seq is sent twice.
        const calls: SampleBatch[][] = [];
        for (let round = 0; round < 2; round++) {
          for (let seq = batchesPerRun; seq >= 1; seq--) {
            calls.push(runs.map((run, r) => batch(a, run, ((seq + r) % batchesPerRun) + 1, makeColumns(3, seq, ((seq + r) % batchesPerRun) * 3))));
          }
        }
        const handles = [store, await location.open()];
        const all = await Promise.all(calls.map((call, i) => handles[i % 2]!.appendSampleBatches(call)));
        await handles[1]!.close();
        const stored = all.flat().filter((r) => r.status === 'stored');
        expect(stored).toHaveLength(runs.length * batchesPerRun);
        expect(all.flat().filter((r) => r.status === 'duplicate')).toHaveLength(runs.length * batchesPerRun);
        for (const run of runs) {
          const record = await store.getRun(a, run);
          expect(record).toMatchObject({ contiguousSeq: batchesPerRun, sampleCount: batchesPerRun * 3 });
          const back = await store.readSamples(a, run);
          expect(Array.from(back!.t)).toEqual(Array.from({ length: batchesPerRun * 3 }, (_, i) => i));
        }
      });
    });

    describe('events', () => {
      it('stores events once per key and lists them by t', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        expect(
          await store.appendEvents(a, run, [
            { key: 'ev-2', event: { t: 200, type: 'cramp', muscle: 'calf', severity: 3 } },
            { key: 'ev-1', event: { t: 100, type: 'drink', ml: 200 } },
            { key: 'ev-1', event: { t: 100, type: 'drink', ml: 999 } },
          ]),
        ).toBe(2);
        expect(await store.appendEvents(a, run, [{ key: 'ev-1', event: { t: 1, type: 'pause' } }])).toBe(0);
        const events = await store.listEvents(a, run);
        expect(events?.map((e) => [e.key, e.event])).toEqual([
          ['ev-1', { t: 100, type: 'drink', ml: 200 }],
          ['ev-2', { t: 200, type: 'cramp', muscle: 'calf', severity: 3 }],
        ]);
        await expectStoreError(store.appendEvents(a, run, [{ key: '', event: { t: 1, type: 'lap' } }]), 'STORE_BAD_INPUT');
      });

      it('keeps an upload’s events', async () => {
        const a = await athlete();
        const { run } = await store.createUploadedRun(a, { fileSha256: sha('events'), run: normalizedRun(makeColumns(40, 9)), report: report(40) });
        expect((await store.listEvents(a, run.id))?.map((e) => e.event)).toEqual([
          { t: 10, type: 'lap' },
          { t: 30, type: 'drink', ml: 150 },
        ]);
      });
    });

    describe('alert log', () => {
      it('appends each alert id once, in order, and tracks delivery', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        const first = await store.appendAlerts(a, run, [alert('hyd-1', 60), alert('slow-1', 90)]);
        expect(first?.map((s) => [s.pos, s.alert.id])).toEqual([
          [1, 'hyd-1'],
          [2, 'slow-1'],
        ]);
        const second = await store.appendAlerts(a, run, [{ ...alert('slow-1', 95), message: 'changed' }, alert('hyd-2', 120)]);
        expect(second?.map((s) => [s.pos, s.alert.id])).toEqual([[3, 'hyd-2']]);
        const all = await store.listAlerts(a, run);
        expect(all?.map((s) => s.alert)).toEqual([alert('hyd-1', 60), alert('slow-1', 90), alert('hyd-2', 120)]);
        expect(all?.every((s) => !s.delivered)).toBe(true);

        expect(await store.markAlertsDelivered(a, run, 2)).toBe(true);
        expect((await store.listAlerts(a, run, { undeliveredOnly: true }))?.map((s) => s.pos)).toEqual([3]);
        expect((await store.listAlerts(a, run))?.map((s) => s.delivered)).toEqual([true, true, false]);
        await store.markAlertsDelivered(a, run, 1); // never moves back
        expect((await store.getRun(a, run))?.alertsDeliveredThrough).toBe(2);
        await store.markAlertsDelivered(a, run, 50); // clamped to what exists
        expect((await store.getRun(a, run))?.alertsDeliveredThrough).toBe(3);
        await store.appendAlerts(a, run, [alert('late', 200)]);
        expect((await store.listAlerts(a, run, { undeliveredOnly: true }))?.map((s) => s.alert.id)).toEqual(['late']);
        expect((await store.listAlerts(a, run, { afterPos: 2 }))?.map((s) => s.pos)).toEqual([3, 4]);
      });

      it('keeps positions unique under concurrent appends', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendAlerts(a, run, [alert(`a${i}`, i), alert('shared', 0)])));
        const all = await store.listAlerts(a, run);
        expect(all?.map((s) => s.pos)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
        expect(new Set(all?.map((s) => s.alert.id)).size).toBe(11);
      });
    });

    describe('engine checkpoints', () => {
      it('keeps the newest checkpoint by seq', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        expect(await store.getCheckpoint(a, run)).toBeNull();
        expect(await store.saveCheckpoint(a, run, 5, { version: 1, sum: 12.5, ring: [1, 2] })).toBe(true);
        expect(await store.getCheckpoint(a, run)).toMatchObject({ seq: 5, snapshot: { version: 1, sum: 12.5, ring: [1, 2] } });
        await store.saveCheckpoint(a, run, 3, { version: 1, stale: true });
        expect((await store.getCheckpoint(a, run))?.snapshot).toEqual({ version: 1, sum: 12.5, ring: [1, 2] });
        await store.saveCheckpoint(a, run, 9, { version: 2 });
        expect(await store.getCheckpoint(a, run)).toMatchObject({ seq: 9, snapshot: { version: 2 } });
        await expectStoreError(store.saveCheckpoint(a, run, -1, { version: 1 }), 'STORE_BAD_INPUT');
      });
    });

    describe('cramp journal', () => {
      it('adds entries idempotently and lists them newest first in pages', async () => {
        const a = await athlete();
        const run = await liveRun(a);
        const first = await store.addJournalEntry(a, {
          id: 'j-1',
          runId: run,
          t: 5400,
          muscle: 'calf',
          severity: 4,
          note: 'left calf, downhill',
          context: { temperatureC: 27, decouplingPct: 8 },
        });
        expect(first).toMatchObject({ id: 'j-1', athleteId: a, runId: run, t: 5400, muscle: 'calf', severity: 4, note: 'left calf, downhill' });
        expect(first?.context).toEqual({ temperatureC: 27, decouplingPct: 8 });
        expect(await store.addJournalEntry(a, { id: 'j-1', muscle: 'hamstring', severity: 1 })).toEqual(first);
        const second = await store.addJournalEntry(a, { muscle: 'hamstring', severity: 2 });
        expect(second).toMatchObject({ runId: null, t: null, note: '', context: {} });
        const third = await store.addJournalEntry(a, { muscle: 'quad', severity: 1 });
        const page1 = await store.listJournal(a, { limit: 2 });
        expect(page1.items.map((e) => e.id)).toEqual([third!.id, second!.id]);
        const page2 = await store.listJournal(a, { limit: 2, before: page1.nextCursor! });
        expect(page2).toEqual({ items: [first], nextCursor: null });
        expect(await store.deleteJournalEntry(a, second!.id)).toBe(true);
        expect(await store.getJournalEntry(a, second!.id)).toBeNull();
        expect(await store.deleteJournalEntry(a, second!.id)).toBe(false);
        // Another athlete may pick the same client id.
        const b = await athlete();
        expect((await store.addJournalEntry(b, { id: 'j-1', muscle: 'foot', severity: 2 }))?.muscle).toBe('foot');
        expect((await store.getJournalEntry(a, 'j-1'))?.muscle).toBe('calf');
        await expectStoreError(store.addJournalEntry(a, { muscle: '', severity: 1 }), 'STORE_BAD_INPUT');
      });
    });

    describe('athlete model summaries', () => {
      const upload = async (a: string, seed: number, startTime: string) => {
        const run = normalizedRun(makeColumns(600 + seed * 7, seed));
        run.meta.startTime = startTime;
        const { run: stored } = await store.createUploadedRun(a, { fileSha256: sha(`summary-${a}-${seed}`), run, report: report(600) });
        return { id: stored.id, run };
      };

      it('saves, replaces and lists summary rows per athlete; a foreign or missing run stores nothing', async () => {
        const a = await athlete();
        const b = await athlete();
        const one = await upload(a, 1, '2026-05-01T07:00:00.000Z');
        const summary = summarizeRun(one.run);
        expect(await store.saveRunSummary(a, one.id, summary)).toBe(true);
        const listed = await store.listRunSummaries(a);
        expect(listed).toEqual([{ runId: one.id, version: summary.version, summary, savedAtMs: expect.any(Number) }]);
        expect(await store.listRunSummaryStamps(a)).toEqual([{ runId: one.id, version: summary.version, savedAtMs: listed[0]!.savedAtMs }]);
        const two = await upload(a, 2, '2026-05-02T07:00:00.000Z');
        await store.saveRunSummary(a, two.id, summarizeRun(two.run));
        expect((await store.listRunSummaries(a, { runIds: [two.id, 'nope'] })).map((r) => r.runId)).toEqual([two.id]);
        expect(await store.listRunSummaries(a, { runIds: [] })).toEqual([]);
        expect(await store.listRunSummaries(b, { runIds: [one.id] })).toEqual([]);
        expect(await store.deleteRun(a, two.id)).toBe(true);
        const replaced = { ...summary, version: summary.version + 1 };
        expect(await store.saveRunSummary(a, one.id, replaced)).toBe(true);
        const again = await store.listRunSummaries(a);
        expect(again).toEqual([{ runId: one.id, version: replaced.version, summary: replaced, savedAtMs: expect.any(Number) }]);
        expect(again[0]!.savedAtMs).toBeGreaterThan(listed[0]!.savedAtMs);
        expect(await store.saveRunSummary(b, one.id, summary)).toBe(false);
        expect(await store.saveRunSummary(a, 'no-such-run', summary)).toBe(false);
        expect(await store.listRunSummaries(b)).toEqual([]);
        await expectStoreError(store.saveRunSummary(a, one.id, { nope: 1 } as never), 'STORE_BAD_INPUT');
        expect(await store.deleteRun(a, one.id)).toBe(true);
        expect(await store.listRunSummaries(a)).toEqual([]);
      });

      it('the digest changes with every save and deletion; rows stored since a time are listed alone', async () => {
        const a = await athlete();
        expect(await store.runSummaryDigest(a)).toEqual({ count: 0, runSum: 0, lastSavedMs: 0 });
        const one = await upload(a, 3, '2026-05-03T07:00:00.000Z');
        const two = await upload(a, 4, '2026-05-04T07:00:00.000Z');
        const s1 = summarizeRun(one.run);
        const seen = new Set<string>();
        const digest = async () => {
          const d = await store.runSummaryDigest(a);
          const key = JSON.stringify(d);
          expect(seen.has(key), key).toBe(false);
          seen.add(key);
          return d;
        };
        await digest();
        // Saves in the same millisecond still get later times: each changes the digest.
        await store.saveRunSummary(a, one.id, s1);
        const d1 = await digest();
        await store.saveRunSummary(a, one.id, s1);
        const d2 = await digest();
        expect(d2.lastSavedMs).toBeGreaterThan(d1.lastSavedMs);
        await store.saveRunSummary(a, two.id, summarizeRun(two.run));
        const d3 = await digest();
        expect(d3.count).toBe(2);
        expect((await store.listRunSummaries(a, { savedSinceMs: d3.lastSavedMs })).map((r) => r.runId)).toEqual([two.id]);
        expect((await store.listRunSummaries(a, { savedSinceMs: d1.lastSavedMs })).map((r) => r.runId)).toEqual([one.id, two.id]);
        await store.deleteRun(a, two.id);
        // The same rows as before `two` was saved: the digest of then, not of a moment ago.
        expect(await store.runSummaryDigest(a)).toEqual(d2);
      });

      it('the model folded from stored rows equals a full recompute after any adds and deletes', async () => {
        const a = await athlete();
        const pool = await Promise.all(
          [0, 1, 2, 3, 4, 5].map((i) => upload(a, i + 10, new Date(Date.UTC(2026, 4, 1 + i * 3, 7)).toISOString())),
        );
        const present = new Set<string>();
        await fc.assert(
          fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: pool.length - 1 })), { minLength: 1, maxLength: 12 }), async (ops) => {
            for (const [add, i] of ops) {
              const r = pool[i]!;
              if (add) {
                await store.saveRunSummary(a, r.id, summarizeRun(r.run));
                present.add(r.id);
              } else {
                await location.sql(`DELETE FROM run_summaries WHERE run_n = (SELECT n FROM runs WHERE id = '${r.id}')`);
                present.delete(r.id);
              }
            }
            const stored = (await store.listRunSummaries(a)).map((s) => ({ runId: s.runId, summary: s.summary }));
            const full = pool.filter((r) => present.has(r.id)).map((r) => ({ runId: r.id, summary: summarizeRun(r.run) }));
            expect(foldModel(stored)).toEqual(foldModel(full));
          }),
          { numRuns: 15 },
        );
      });
    });

    describe('delete', () => {
      it('removes a run with its samples, events, alerts and checkpoint, and unlinks journal entries', async () => {
        const a = await athlete();
        const tables = ['sample_chunks', 'run_events', 'run_alerts', 'run_checkpoints'];
        const before = await Promise.all(tables.map((t) => location.countRows(t)));
        const { run } = await store.createUploadedRun(a, {
          fileSha256: sha('to-delete'),
          run: normalizedRun(makeColumns(UPLOAD_CHUNK_ROWS + 1, 5)),
          report: report(1),
        });
        await store.appendAlerts(a, run.id, [alert('z', 1)]);
        await store.saveCheckpoint(a, run.id, 2, { version: 1 });
        const entry = await store.addJournalEntry(a, { runId: run.id, muscle: 'calf', severity: 2 });
        const during = await Promise.all(tables.map((t) => location.countRows(t)));
        expect(during.map((n, i) => n - before[i]!)).toEqual([2, 2, 1, 1]);

        expect(await store.deleteRun(a, run.id)).toBe(true);
        expect(await store.getRun(a, run.id)).toBeNull();
        expect(await store.readSamples(a, run.id)).toBeNull();
        expect(await store.deleteRun(a, run.id)).toBe(false);
        expect(await Promise.all(tables.map((t) => location.countRows(t)))).toEqual(before);
        expect((await store.getJournalEntry(a, entry!.id))?.runId).toBeNull();
        // The file may be uploaded again: it is a new run now.
        const again = await store.createUploadedRun(a, { fileSha256: sha('to-delete'), run: normalizedRun(makeColumns(3, 1)), report: report(3) });
        expect(again.created).toBe(true);
        expect(again.run.id).not.toBe(run.id);
      });
    });

    describe('migrations and lifecycle', () => {
      it('migrates once however many handles open the database, even at the same time', async () => {
        const handles = await Promise.all([1, 2, 3].map(() => location.open()));
        const a = await athlete();
        const run = await liveRun(a);
        for (const handle of handles) {
          expect(await handle.schemaVersion()).toBe(LATEST_VERSION);
          expect((await handle.getRun(a, run))?.id).toBe(run);
        }
        await Promise.all(handles.map((h) => h.close()));
        expect(await location.countRows('schema_migrations')).toBe(LATEST_VERSION);
        expect(await store.schemaVersion()).toBe(LATEST_VERSION);
        await store.ping();
      });

      it('rejects calls on a closed handle with STORE_UNAVAILABLE', async () => {
        const handle = await location.open();
        await handle.close();
        await handle.close();
        await expectStoreError(handle.getRun('a', 'b'), 'STORE_UNAVAILABLE');
        await expectStoreError(handle.ping(), 'STORE_UNAVAILABLE');
      });
    });
  });
}
