/**
 * The thread that owns the embedded store's SQLite connection (started by sqlite-thread.ts): it opens the file
 * with `SqliteStore.open(workerData)`, says `ready` (or why it could not open), then runs each call it is sent and
 * answers it by id. Typed arrays a result owns are moved to the caller, not copied.
 * @module
 */
import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import { isPackedBatches, packResults, unpackBatches } from './batch-wire.js';
import { SqliteStore } from './sqlite.js';
import { StoreError, type StoreConfig } from './types.js';
import { STORE_METHODS, type StoreCall, type StoreReply, type WireError } from './sqlite-thread.js';

function wireError(error: unknown): WireError {
  if (error instanceof StoreError) return { code: error.code, message: error.message };
  return { code: null, message: error instanceof Error ? error.message : String(error) };
}

/**
 * The buffers of typed arrays at the top of a result (or one level down) that own their whole buffer: moving them
 * costs nothing, copying a run's sample columns costs milliseconds. Node Buffers may share a pooled slab: copied.
 */
function ownedBuffers(value: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object') return;
    if (ArrayBuffer.isView(v)) {
      const b = v.buffer;
      if (!Buffer.isBuffer(v) && b instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === b.byteLength && !out.includes(b)) out.push(b);
      return;
    }
    if (depth === 0 || Array.isArray(v)) return;
    for (const key of Object.keys(v)) visit((v as Record<string, unknown>)[key], depth - 1);
  };
  visit(value, 2);
  return out;
}

const port = parentPort!;
let store: SqliteStore | null = null;
try {
  store = SqliteStore.open(workerData as StoreConfig);
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: wireError(error) });
}

port.on('message', (call: StoreCall) => {
  const reply = (message: StoreReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  if (store === null || !STORE_METHODS.has(call.method)) {
    reply({ id: call.id, error: { code: 'STORE_UNAVAILABLE', message: store === null ? 'store is closed' : `no store method ${call.method}` } });
    return;
  }
  const failed = (error: unknown) => reply({ id: call.id, error: wireError(error) });
  if (call.method === 'appendSampleBatches' && isPackedBatches(call.args[0])) {
    store.appendSampleBatches(unpackBatches(call.args[0])).then((results) => {
      const packed = packResults(results);
      reply({ id: call.id, value: packed }, [packed.buffer as ArrayBuffer]);
    }, failed);
    return;
  }
  const method = (store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[call.method]!;
  method.apply(store, call.args).then(
    (value) => {
      if (call.method === 'close') {
        reply({ id: call.id, value: undefined });
        port.close();
        return;
      }
      try {
        reply({ id: call.id, value }, ownedBuffers(value));
      } catch (error) {
        failed(error); // a value that cannot be cloned (a bug): the call fails, not the thread
      }
    },
    failed,
  );
});
