// Where a server under load allocates: a preload (`node --import`) that runs V8's sampling heap profiler, counting the
// objects collected since as well, from ALLOC_AT_MS after start for ALLOC_FOR_MS, and writes
// ALLOC_OUT.<pid>.heapprofile (Chrome DevTools' format). With the live bench, for 10 s of the 5,000 × 1 Hz phase:
//   BENCH_SERVER_NODE_ARGS="--max-semi-space-size=32 --import=./scripts/bench/alloc-sample.mjs" ALLOC_AT_MS=30000 \
//     node scripts/bench/live.mjs --part live --levels 5000 --sat-batches , --measure-s 20
//   node scripts/bench/alloc-report.mjs test-artifacts/alloc.<pid>.heapprofile --messages 50000
// The profiler slows the server: read bytes per message, not its latency, from such a run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Session } from 'node:inspector';

const atMs = Number(process.env.ALLOC_AT_MS ?? 30_000);
const forMs = Number(process.env.ALLOC_FOR_MS ?? 10_000);
const out = process.env.ALLOC_OUT ?? 'test-artifacts/alloc';
const session = new Session();
session.connect();
setTimeout(() => {
  const options = { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
  session.post('HeapProfiler.startSampling', options, () => {
    setTimeout(() => {
      session.post('HeapProfiler.stopSampling', (err, result) => {
        if (err) return;
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(`${out}.${process.pid}.heapprofile`, JSON.stringify(result.profile));
      });
    }, forMs).unref();
  });
}, atMs).unref();
