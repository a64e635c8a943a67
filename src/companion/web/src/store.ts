/**
 * The companion's memory across reloads, in IndexedDB: the run in progress (its ids, start, settings) and what
 * the watch client has not had acked (`WatchClient.pending()`), so a dead zone, a crash or a reload loses no
 * sample. One object store, two keys; every write replaces the record (the pending list is small: batches leave
 * it as soon as the server acks them).
 */
import type { Alert } from '../../../../alerts/types.js';
import type { RecorderState } from '../../recorder.js';
import type { PendingState } from '../../../wire/client.js';
import type { StartRun } from '../../../wire/events.js';

export interface ActiveRun {
  start: StartRun & { startTime: number };
  /** The server's run id, once known. */
  id: string | null;
  /** Prompts shown so far: listed again after a reload, announced once (dedupe by id). */
  alerts: Alert[];
  paused: boolean;
  laps: number;
}

/** The client's unacked messages and samples (the second in progress included), and where the recorder was. */
export type SavedPending = PendingState & { recorder?: RecorderState };

const DB = 'crampguard-companion';
const STORE = 'state';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'));
  });
}

let db: Promise<IDBDatabase> | null = null;

function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  db ??= open();
  return db.then(
    (d) =>
      new Promise<T | undefined>((resolve, reject) => {
        const t = d.transaction(STORE, mode);
        const req = fn(t.objectStore(STORE));
        t.oncomplete = () => resolve(req ? req.result : undefined);
        t.onerror = () => reject(t.error ?? new Error('IndexedDB write failed'));
        t.onabort = () => reject(t.error ?? new Error('IndexedDB write aborted'));
      }),
  );
}

export const saved = {
  async run(): Promise<ActiveRun | null> {
    return ((await tx<ActiveRun>('readonly', (s) => s.get('run') as IDBRequest<ActiveRun>)) as ActiveRun | undefined) ?? null;
  },
  async pending(): Promise<SavedPending | null> {
    return ((await tx<SavedPending>('readonly', (s) => s.get('pending') as IDBRequest<SavedPending>)) as SavedPending | undefined) ?? null;
  },
  async saveRun(run: ActiveRun): Promise<void> {
    await tx('readwrite', (s) => void s.put(run, 'run'));
  },
  async savePending(p: SavedPending): Promise<void> {
    await tx('readwrite', (s) => void s.put(p, 'pending'));
  },
  async clear(): Promise<void> {
    await tx('readwrite', (s) => {
      s.delete('run');
      s.delete('pending');
    });
  },
};

/**
 * Writes the latest pending state, one write at a time: changes that arrive during a write are folded into the
 * next one (the newest state wins; nothing older is ever written after it).
 */
export function pendingWriter(read: () => SavedPending): { changed(): void; flushed(): Promise<void> } {
  let writing: Promise<void> | null = null;
  let dirty = false;
  const loop = async (): Promise<void> => {
    while (dirty) {
      dirty = false;
      await saved.savePending(read()).catch(() => {});
    }
    writing = null;
  };
  return {
    changed() {
      dirty = true;
      writing ??= loop();
    },
    async flushed() {
      while (writing) await writing;
    },
  };
}
