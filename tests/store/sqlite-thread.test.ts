/**
 * What the embedded store's thread adds to the Store contract (which tests/store/sqlite.test.ts runs through it):
 * a thread that stops fails only the calls in flight, retriably, and the next call has a fresh one on the same
 * file; values that cannot cross are refused with a code; and the thread never keeps a finished process alive.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeChunkOf, type EncodedChunk } from '../../src/store/codec.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { SqliteThreadStore, STORE_WORKER } from '../../src/store/sqlite-thread.js';
import { StoreError, type SampleBatch, type Store } from '../../src/store/types.js';
import { BUILT_STORE, builtStoreExists } from './processes.js';
import { makeColumns } from './store.case.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crampguard-thread-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite store thread', () => {
  it('fails the calls in flight with STORE_UNAVAILABLE when its thread stops, then serves the same data from a new one', async () => {
    const store = await SqliteThreadStore.open({ dataDir: tempDir() });
    try {
      const { athlete } = await store.createAthlete({ name: 'crash' });
      const { run } = await store.startLiveRun(athlete.id, { clientRunId: 'w1' });
      const stored = await store.appendSampleBatches([{ athleteId: athlete.id, runId: run.id, seq: 1, samples: makeColumns(5, 1) }]);
      expect(stored[0]!.status).toBe('stored');

      const first = store[STORE_WORKER]()!;
      const inFlight = store.getRun(athlete.id, run.id);
      await first.terminate();
      const error = await inFlight.then(
        () => null,
        (e: unknown) => e,
      );
      // Answered before the stop, or failed retriably: never left hanging, never another code.
      if (error !== null) expect(error).toMatchObject({ name: 'StoreError', code: 'STORE_UNAVAILABLE' });

      const samples = await store.readSamples(athlete.id, run.id);
      expect(store[STORE_WORKER]()).not.toBe(first);
      expect(samples!.length).toBe(5);
      expect(Array.from(samples!.hr)).toEqual(Array.from(makeColumns(5, 1).hr));
    } finally {
      await store.close();
    }
  });

  it('refuses an argument that cannot cross to the thread with STORE_BAD_INPUT, and goes on', async () => {
    const store = await SqliteThreadStore.open({ dataDir: tempDir() });
    try {
      const error = await store.createAthlete({ name: 'x', profile: { hrMax: (() => 190) as unknown as number } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('STORE_BAD_INPUT');
      await expect(store.createAthlete({ name: 'y' })).resolves.toMatchObject({ athlete: { name: 'y' } });
    } finally {
      await store.close();
    }
  });

  it('answers a group commit of encoded batches (which crosses packed) exactly as the store in the process does', async () => {
    // The same calls on both stores, refusals included; ids differ per store, so batches name runs by role.
    const play = async (store: Store) => {
      const { athlete } = await store.createAthlete({ name: 'packed' });
      const { athlete: other } = await store.createAthlete({ name: 'other' });
      const runs = [(await store.startLiveRun(athlete.id, { clientRunId: 'a' })).run.id, (await store.startLiveRun(athlete.id, { clientRunId: 'b' })).run.id];
      const enc = (run: number, seq: number, rows = 3, t0 = seq * 10, who = athlete.id): SampleBatch & { samples: EncodedChunk } => ({
        athleteId: who, runId: runs[run]!, seq, samples: encodeChunkOf(makeColumns(rows, seq + run, t0)),
      });
      const badHeader = enc(0, 7);
      const calls: SampleBatch[][] = [
        [enc(0, 1), enc(1, 1, 1), { ...enc(0, 3), samples: { ...encodeChunkOf(makeColumns(3, 3, 30)), rows: 4 } }, enc(0, 2), enc(1, 2, 5)],
        [enc(0, 2), enc(0, 3), enc(0, 0), enc(0, 1.5), enc(1, 3, 1, 30, other.id), { ...enc(0, 4), runId: 'no-such-run' }],
        [{ ...badHeader, samples: { ...badHeader.samples, bytes: new Uint8Array(badHeader.samples.bytes.byteLength) } }, enc(1, 4, 2)],
        [],
      ];
      const answers = [];
      for (const call of calls) {
        const results = await store.appendSampleBatches(call);
        answers.push(results.map((r) => [runs.indexOf(r.runId), r.seq, r.status, r.contiguousSeq]));
      }
      const stored = await Promise.all(runs.map(async (id) => Array.from((await store.readSamples(athlete.id, id))!.hr)));
      return { answers, stored };
    };
    const inProcess = SqliteStore.open({ dataDir: tempDir() });
    const threaded = await SqliteThreadStore.open({ dataDir: tempDir() });
    try {
      const expected = await play(inProcess);
      expect(expected.answers[0]!.map((a) => a[2])).toEqual(['stored', 'stored', 'invalid', 'stored', 'stored']);
      expect(expected.answers[1]!.map((a) => a[2])).toEqual(['duplicate', 'stored', 'invalid', 'invalid', 'not_found', 'not_found']);
      expect(await play(threaded)).toEqual(expected);
    } finally {
      await inProcess.close();
      await threaded.close();
    }
  });

  it('answers a call on a closed store STORE_UNAVAILABLE, and closes twice quietly', async () => {
    const store = await SqliteThreadStore.open({ dataDir: tempDir() });
    await store.close();
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it.skipIf(!builtStoreExists)('keeps a process alive while a call is in flight, and lets it exit when none is, unclosed', () => {
    const script = `
      const { openStore } = await import(process.env.STORE_MODULE);
      const store = await openStore({ dataDir: process.env.DATA_DIR });
      const { athlete } = await store.createAthlete({ name: 'left open' });
      console.log(JSON.stringify((await store.getAthlete(athlete.id)).name));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, STORE_MODULE: BUILT_STORE, DATA_DIR: tempDir() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0); // 13 would be an await the thread did not keep alive; a timeout, a thread that held it
    expect(r.stdout.trim()).toBe('"left open"');
  });
});
