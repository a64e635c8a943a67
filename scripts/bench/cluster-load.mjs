// Load generator for the 1/2/3-process benchmark (forked by cluster.mjs): N simulated watches over socket.io
// (websocket only, 127.0.0.1 only), spread round-robin over the processes' ports, each with its own live run.
//   rate:   every watch sends `batch` samples every `batch` seconds (1 Hz per watch), spread over the period;
//   closed: every watch sends its next batch as soon as the previous one is acked (saturation).
// Measures over the measuring window: runs started, samples acked, sample→ack latency, and prompt latency: each
// `risk` or `alert` push names the run time t of the sample that produced it; latency = arrival − when that
// sample was sent. Bounded: at most 6,000 watches, hard exit at the deadline.
import { io } from 'socket.io-client';

const cfg = JSON.parse(process.argv[2]);
const { urls, tokens, watches: N, mode, batch, warmupS, measureS, tag } = cfg;
for (const u of urls) if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(u)) throw new Error('the load generator talks to 127.0.0.1 only');
if (!(N >= 1 && N <= 6000)) throw new Error('watches must be 1..6000');
setTimeout(() => {
  console.error('cluster load generator: hard deadline reached');
  process.exit(2);
}, (warmupS + measureS + 180) * 1000).unref();
process.on('disconnect', () => process.exit(0));

const RING = 256; // send times kept per watch, by batch number
const sentAt = new Float64Array(N * RING);
let measuring = false;
let stopping = false;
const m = { started: 0, refused: 0, samplesAcked: 0, ackMs: [], pushMs: [], errors: {} };

function sampleAt(t) {
  return { t, hr: 140 + (t % 13), cadence: 172 + (t % 5), speed: 3.2 + (t % 7) / 20, distance: t * 3.2 };
}

const watches = [];
for (let i = 0; i < N; i++) {
  const socket = io(`${urls[i % urls.length]}/watch`, {
    transports: ['websocket'],
    auth: { token: tokens[i % tokens.length] },
    forceNew: true,
    reconnection: false,
  });
  const w = { i, socket, runId: `${tag}-${i}`, seq: 0, t: 0, live: false };
  watches.push(w);
  const onPush = (p) => {
    if (!measuring || p.runId !== w.runId) return;
    const at = sentAt[w.i * RING + (Math.floor(p.t / batch) % RING)];
    if (at > 0) m.pushMs.push(performance.now() - at);
  };
  socket.on('risk', onPush);
  socket.on('alert', onPush);
  socket.once('connect', async () => {
    const r = await socket.timeout(60_000).emitWithAck('start', { runId: w.runId, startTime: Date.now() }).catch(() => null);
    if (!r?.ok) {
      m.refused++;
      return;
    }
    w.live = true;
    m.started++;
    if (mode === 'closed') send(w);
    else setTimeout(() => tick(w), Math.random() * batch * 1000);
  });
}

function tick(w) {
  if (stopping) return;
  send(w);
  setTimeout(() => tick(w), batch * 1000);
}

function send(w) {
  if (stopping) return;
  const seq = ++w.seq;
  const samples = new Array(batch);
  const from = w.t;
  for (let k = 0; k < batch; k++) samples[k] = sampleAt(w.t++);
  const sent = performance.now();
  sentAt[w.i * RING + (Math.floor(from / batch) % RING)] = sent;
  const counted = measuring;
  w.socket
    .timeout(30_000)
    .emitWithAck('samples', { runId: w.runId, seq, samples })
    .then(
      (r) => {
        if (r.ok) {
          if (counted && measuring) {
            m.samplesAcked += batch;
            m.ackMs.push(performance.now() - sent);
          }
        } else {
          m.errors[r.error.code] = (m.errors[r.error.code] ?? 0) + 1;
          if (r.error.code === 'SEQ_GAP' || r.error.code === 'RATE_LIMITED') w.seq = seq - 1;
        }
        if (mode === 'closed') send(w);
      },
      () => {
        m.errors.TIMEOUT = (m.errors.TIMEOUT ?? 0) + 1;
      },
    );
}

function pct(xs, p) {
  if (xs.length === 0) return null;
  const s = Float64Array.from(xs).sort();
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(1);
}

// Wait until every watch has started (or was refused), then warm up, then measure.
const connectDeadline = performance.now() + 120_000;
while (m.started + m.refused < N && performance.now() < connectDeadline) await new Promise((r) => setTimeout(r, 200));
process.send?.({ type: 'connected', started: m.started, refused: m.refused });
await new Promise((r) => setTimeout(r, warmupS * 1000));
measuring = true;
const t0 = performance.now();
process.send?.({ type: 'measuring' });
await new Promise((r) => setTimeout(r, measureS * 1000));
measuring = false;
const seconds = (performance.now() - t0) / 1000;
process.send?.({
  type: 'result',
  started: m.started,
  refused: m.refused,
  samplesPerS: Math.round(m.samplesAcked / seconds),
  ackP50: pct(m.ackMs, 50),
  ackP99: pct(m.ackMs, 99),
  promptP50: pct(m.pushMs, 50),
  promptP99: pct(m.pushMs, 99),
  prompts: m.pushMs.length,
  errors: m.errors,
});
stopping = true;
for (const w of watches) w.socket.disconnect();
setTimeout(() => process.exit(0), 200);
