// Uploads one FIT file over and over (each time as a different athlete, so idempotency never short-cuts the
// decode) until its parent says stop; in its own process, forked by live.mjs. Reports count and latency.
import { readFileSync } from 'node:fs';

const { url, tokens, file } = JSON.parse(process.argv[2]);
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error('the uploader talks to 127.0.0.1 only');
const bytes = readFileSync(file);
setTimeout(() => process.exit(2), 600_000).unref();
process.on('disconnect', () => process.exit(0));

let stop = false;
process.on('message', (m) => {
  if (m?.type === 'stop') stop = true;
});
const ms = [];
const failures = {};
let k = 0;
while (!stop && k < tokens.length) {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[k++]}`, 'content-type': 'application/octet-stream', connection: 'close' },
      body: bytes,
    });
    await res.arrayBuffer();
    if (res.status === 201) ms.push(performance.now() - t0);
    else failures[res.status] = (failures[res.status] ?? 0) + 1;
  } catch (err) {
    // A refused or reset connection is a finding to report, not a reason to stop uploading.
    const code = err?.cause?.code ?? err?.code ?? 'ERROR';
    failures[code] = (failures[code] ?? 0) + 1;
    await new Promise((r) => setTimeout(r, 200));
  }
}
ms.sort((a, b) => a - b);
process.send({ type: 'result', uploads: ms.length, bytes: bytes.length, medianMs: ms[Math.floor(ms.length / 2)] ?? null, failures, ranOutOfAthletes: !stop });
setTimeout(() => process.exit(0), 100);
