import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_FILE, SqliteStore } from '../../src/store/sqlite.js';
import type { LiveLogLimits } from '../../src/store/sqlite-live-log.js';
import type { SampleBatch } from '../../src/store/types.js';
import { makeColumns } from './store.case.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(dataDir: string, limits?: LiveLogLimits): SqliteStore {
  const store = SqliteStore.open({ dataDir }, limits);
  stores.push(store);
  return store;
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crampguard-live-log-'));
  dirs.push(dir);
  return dir;
}

/** Another connection's look at the file (read-only: it commits nothing). */
function peek<T>(dataDir: string, sql: string): T {
  const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as T;
  } finally {
    db.close();
  }
}

/** Batch `seq` of a run: 2 samples at t = 2·(seq − 1) and one more. */
const batch = (athleteId: string, runId: string, seq: number): SampleBatch => ({ athleteId, runId, seq, samples: makeColumns(2, seq, (seq - 1) * 2) });

async function liveRun(store: SqliteStore) {
  const { athlete } = await store.createAthlete({ name: 'runner' });
  const { run } = await store.startLiveRun(athlete.id, { clientRunId: `w-${Math.random()}` });
  return { a: athlete.id, run: run.id };
}

const ts = (n: number) => Array.from({ length: n * 2 }, (_, i) => i);

describe('SQLite live log', () => {
  it('counts batches still in the log in the run, and moves them when a run has runRows, before a read and at its end', async () => {
    const dir = newDir();
    const store = open(dir, { lagRows: 1000, runRows: 4, deleteEveryRows: 1000 });
    const { a, run } = await liveRun(store);
    for (let seq = 1; seq <= 3; seq++) await store.appendSampleBatches([batch(a, run, seq)]);
    expect(peek(dir, 'SELECT COUNT(*) FROM live_chunks')).toBe(3);
    expect(peek(dir, 'SELECT COUNT(*) FROM sample_chunks')).toBe(0);
    expect(await store.getRun(a, run)).toMatchObject({ contiguousSeq: 3, sampleCount: 6 });
    expect((await store.listRuns(a)).items[0]).toMatchObject({ sampleCount: 6 });

    await store.appendSampleBatches([batch(a, run, 4)]);
    expect(peek(dir, 'SELECT COUNT(*) FROM sample_chunks')).toBe(4);
    expect(peek(dir, 'SELECT sample_count FROM runs')).toBe(8);

    await store.appendSampleBatches([batch(a, run, 6), batch(a, run, 5)]);
    expect(peek(dir, 'SELECT COUNT(*) FROM sample_chunks')).toBe(4);
    expect(Array.from((await store.readSamples(a, run))!.t)).toEqual(ts(6));
    expect(peek(dir, 'SELECT COUNT(*) FROM sample_chunks')).toBe(6);
    expect(peek(dir, 'SELECT contiguous_seq FROM runs')).toBe(6);

    await store.appendSampleBatches([batch(a, run, 7)]);
    const ended = await store.endLiveRun(a, run, { report: { version: 1 } as never });
    expect(ended).toMatchObject({ status: 'ended', contiguousSeq: 7, sampleCount: 14 });
    expect(peek(dir, 'SELECT COUNT(*) FROM sample_chunks')).toBe(7);
    const late = await store.appendSampleBatches([batch(a, run, 7), batch(a, run, 8)]);
    expect(late.map((r) => r.status)).toEqual(['duplicate', 'not_live']);
  });

  it('moves the runs whose oldest batch is lagRows old, then deletes moved rows from the log in ranges', async () => {
    const dir = newDir();
    const store = open(dir, { lagRows: 6, runRows: 100, deleteEveryRows: 4 });
    const quiet = await liveRun(store);
    const busy = await liveRun(store);
    await store.appendSampleBatches([batch(quiet.a, quiet.run, 1)]);
    for (let seq = 1; seq <= 6; seq++) await store.appendSampleBatches([batch(busy.a, busy.run, seq)]);
    // quiet's batch was 6 appends old (busy's first one 5: both wait), then busy's rows go too
    expect(peek(dir, 'SELECT COUNT(*) FROM sample_chunks')).toBe(1);
    for (let seq = 7; seq <= 12; seq++) await store.appendSampleBatches([batch(busy.a, busy.run, seq)]);
    expect(peek(dir, 'SELECT COUNT(*) FROM sample_chunks')).toBeGreaterThanOrEqual(7);
    expect(peek<number>(dir, 'SELECT COUNT(*) FROM live_chunks')).toBeLessThan(13);
    expect(Array.from((await store.readSamples(busy.a, busy.run))!.t)).toEqual(ts(12));
    expect(await store.getRun(quiet.a, quiet.run)).toMatchObject({ contiguousSeq: 1, sampleCount: 2 });
  });

  it('after a crash the next open moves what was left in the log; the old connection then catches up', async () => {
    const dir = newDir();
    const first = open(dir);
    const { a, run } = await liveRun(first);
    await first.appendSampleBatches([batch(a, run, 1), batch(a, run, 2)]);
    await first.appendSampleBatches([batch(a, run, 4)]);
    expect(peek(dir, 'SELECT COUNT(*) FROM live_chunks')).toBe(3);

    // `first` is never closed: as if its process died. A new one opens the same file.
    const second = open(dir);
    expect(peek(dir, 'SELECT COUNT(*) FROM live_chunks')).toBe(0);
    expect(await second.getRun(a, run)).toMatchObject({ contiguousSeq: 2, sampleCount: 6 });
    expect((await second.appendSampleBatches([batch(a, run, 3), batch(a, run, 4)])).map((r) => [r.status, r.contiguousSeq])).toEqual([
      ['stored', 4],
      ['duplicate', 4],
    ]);
    // The first connection sees the other's commits and answers from the file, not from its memory.
    expect((await first.appendSampleBatches([batch(a, run, 3), batch(a, run, 5)])).map((r) => [r.status, r.contiguousSeq])).toEqual([
      ['duplicate', 5],
      ['stored', 5],
    ]);
    expect(await second.getRun(a, run)).toMatchObject({ contiguousSeq: 5, sampleCount: 10 });
    expect(Array.from((await second.readSamples(a, run))!.t)).toEqual(ts(5));
  });

  it('a group commit that fails leaves nothing behind, in the file or in memory', async () => {
    const dir = newDir();
    const store = open(dir);
    const { a, run } = await liveRun(store);
    await store.appendSampleBatches([batch(a, run, 1)]);
    const db = new Database(join(dir, SQLITE_FILE));
    db.exec(`CREATE TRIGGER refuse_seq_3 BEFORE INSERT ON live_chunks WHEN NEW.seq = 3 BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    await expect(store.appendSampleBatches([batch(a, run, 2), batch(a, run, 3)])).rejects.toThrow();
    // (no other connection commits from here on: this connection's memory alone must be right)
    expect(await store.getRun(a, run)).toMatchObject({ contiguousSeq: 1, sampleCount: 2 });
    expect((await store.appendSampleBatches([batch(a, run, 2)])).map((r) => [r.status, r.contiguousSeq])).toEqual([['stored', 2]]);
    expect(Array.from((await store.readSamples(a, run))!.t)).toEqual(ts(2));
    db.close();
  });

  it('forgets a deleted run with its log rows', async () => {
    const dir = newDir();
    const store = open(dir);
    const { a, run } = await liveRun(store);
    await store.appendSampleBatches([batch(a, run, 1), batch(a, run, 2)]);
    expect(await store.deleteRun(a, run)).toBe(true);
    expect(peek(dir, 'SELECT COUNT(*) FROM live_chunks')).toBe(0);
    expect((await store.appendSampleBatches([batch(a, run, 3)]))[0]!.status).toBe('not_found');
  });
});
