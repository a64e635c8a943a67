// The load generator, in its own process (forked by live.mjs): N simulated watches over socket.io
// (websocket only, 127.0.0.1 only), each with its own live run. Modes:
//   rate:   every watch sends one message every `batch` seconds holding `batch` samples (1 Hz per watch),
//           schedules spread evenly over the period;
//   closed: saturation: every watch sends its next message as soon as the previous one is acked.
// Measures, per phase: acked samples, sample→ack latency (per message) and sample→push latency (each `risk`
// or `alert` the server pushes names the run time t of the sample that produced it; latency = its arrival −
// when that sample was sent). Phase starts are told to the parent (it samples the server's CPU and RSS there).
// Bounded: at most 12,000 watches; stops by itself after its phases (hard exit at the deadline). With holdForMemory
// it first says `quiet` and keeps its watches connected until the parent sends `release` (or two minutes pass).
import { io } from 'socket.io-client';

const cfg = JSON.parse(process.argv[2]);
const { url, tokens, watches: N, mode, batch, phases, warmupS, product, historyS = 0, holdForMemory = false } = cfg;
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error('the load generator talks to 127.0.0.1 only');
if (!(N >= 1 && N <= 12_000)) throw new Error('watches must be 1..12000');
const totalS = warmupS + phases.reduce((a, p) => a + p.s, 0);
setTimeout(() => {
  console.error('load generator: hard deadline reached');
  process.exit(2);
}, (totalS + 240) * 1000).unref();
process.on('disconnect', () => process.exit(0));

const RING = 1024; // send times kept per watch, by seq
const PERIOD_MS = batch * 1000;

class Phase {
  constructor(name) {
    this.name = name;
    this.ackMs = [];
    this.pushMs = [];
    this.samplesAcked = 0;
    this.messagesAcked = 0;
    this.errors = {};
    this.pushes = { risk: 0, alert: 0 };
    this.start = 0;
    this.end = 0;
    this.cpu0 = null;
    this.cpuUs = 0;
  }
}
let phase = null; // null = not measuring (connecting, warm-up, draining)
const results = [];

const sentAt = new Float64Array(N * RING);
const watches = [];
const byRunId = new Map();

// Intervals, 40 s easy then 40 s hard: a steady stream leaves the risk score flat, and the server pushes risk only
// when what the watch shows changes (once a minute otherwise, src/live/risk-push.ts), so the prompt latency would
// have almost nothing to measure. With these about half of the engine's risk points are pushed. Each watch is at its
// own point of the cycle (`shift`, s), so that the pushes spread over the phases instead of coming all at once.
function sampleAt(t, shift) {
  const c = t + shift;
  const hard = Math.floor(c / 40) % 2 === 1;
  const hardSoFar = Math.floor(c / 80) * 40 + Math.max(0, (c % 80) - 40);
  return {
    t,
    hr: (hard ? 172 : 138) + (t % 5),
    cadence: (hard ? 182 : 170) + (t % 3),
    speed: (hard ? 4.4 : 3.0) + (t % 7) / 40,
    distance: 3.0 * c + 1.4 * hardSoFar,
  };
}

function send(w) {
  if (stopping) return;
  const seq = ++w.seq;
  const samples = new Array(batch);
  for (let k = 0; k < batch; k++) samples[k] = sampleAt(w.t++, w.shift);
  const sentTime = performance.now();
  sentAt[w.i * RING + (seq % RING)] = sentTime;
  const ph = phase;
  w.inFlight++;
  w.socket.timeout(60_000).emit('samples', { runId: w.runId, seq, samples }, (err, r) => {
    w.inFlight--;
    const now = performance.now();
    if (ph && ph === phase) {
      if (err) ph.errors.TIMEOUT = (ph.errors.TIMEOUT ?? 0) + 1;
      else if (r && r.ok === false) ph.errors[r.error?.code ?? 'ERROR'] = (ph.errors[r.error?.code ?? 'ERROR'] ?? 0) + 1;
      else {
        ph.ackMs.push(now - sentTime);
        ph.samplesAcked += batch;
        ph.messagesAcked++;
      }
    }
    if (mode === 'closed') setImmediate(() => send(w));
  });
}

function onPush(kind, m) {
  const ph = phase;
  if (!ph) return;
  const w = byRunId.get(m?.runId);
  if (!w || typeof m.t !== 'number' || m.t < historyS) return;
  const seq = w.historySeqs + Math.floor((m.t - historyS) / batch) + 1;
  if (w.seq - seq >= RING || seq > w.seq) return;
  const sent = sentAt[w.i * RING + (seq % RING)];
  if (sent < ph.start) return; // sent before this phase began
  ph.pushes[kind]++;
  ph.pushMs.push(performance.now() - sent);
}

function connect(i) {
  return new Promise((resolve, reject) => {
    const token = tokens[i % tokens.length];
    const socket = io(`${url}/watch`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token }, timeout: 60_000 });
    socket.once('connect_error', (e) => reject(new Error(`connect ${i}: ${e.message}`)));
    socket.once('connect', async () => {
      const runId = `bench-${process.pid}-${i}`;
      const w = { i, socket, runId, seq: 0, t: 0, shift: (i * 37) % 80, historySeqs: 0, inFlight: 0, timer: null };
      socket.on('risk', (m) => onPush('risk', m));
      socket.on('alert', (m) => onPush('alert', m));
      try {
        const r = await socket.timeout(60_000).emitWithAck('start', { runId, startTime: Date.now() });
        if (product && r?.ok !== true) throw new Error(`start refused: ${JSON.stringify(r?.error)}`);
        // The run's first `historyS` seconds, 30 samples a message, before the measured stream: a run's risk sits
        // flat at 0 for its first minutes, and the server pushes risk only when it changes (or once a minute).
        for (let t = 0; t < historyS; t += 30) {
          const samples = [];
          for (let k = t; k < Math.min(historyS, t + 30); k++) samples.push(sampleAt(k, w.shift));
          const h = await socket.timeout(60_000).emitWithAck('samples', { runId, seq: ++w.seq, samples });
          if (product && h?.ok !== true) throw new Error(`history refused: ${JSON.stringify(h?.error)}`);
        }
        w.t = historyS;
        w.historySeqs = w.seq;
      } catch (e) {
        return reject(e);
      }
      byRunId.set(runId, w);
      resolve(w);
    });
  });
}

let stopping = false;
const t0 = performance.now();
// Connect with bounded concurrency.
const CONCURRENCY = 100;
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(CONCURRENCY, N) }, async () => {
    while (next < N) {
      const i = next++;
      watches[i] = await connect(i);
    }
  }),
);
const connectS = (performance.now() - t0) / 1000;
process.send({ type: 'connected', connectS });

// Start sending.
const startAt = performance.now();
for (const w of watches) {
  if (mode === 'closed') send(w);
  else {
    // Spread evenly over the period but not in connection order: real watches' phases have nothing to do with
    // when their runs started, so a group commit holds runs from all over the store (7919 is prime).
    const offset = (((w.i * 7919) % N) / N) * PERIOD_MS;
    let k = 0;
    const tick = () => {
      if (stopping) return;
      send(w);
      k++;
      w.timer = setTimeout(tick, Math.max(0, startAt + offset + k * PERIOD_MS - performance.now()));
    };
    w.timer = setTimeout(tick, offset);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(warmupS * 1000);
for (const p of phases) {
  const ph = new Phase(p.name);
  ph.start = performance.now();
  ph.cpu0 = process.cpuUsage();
  phase = ph;
  process.send({ type: 'phase', name: p.name });
  await sleep(p.s * 1000);
  ph.end = performance.now();
  const c = process.cpuUsage(ph.cpu0);
  ph.cpuUs = c.user + c.system;
  phase = null;
  results.push(ph);
}
process.send({ type: 'phase', name: null });
stopping = true;
for (const w of watches) if (w.timer) clearTimeout(w.timer);
// Let in-flight messages finish (bounded), then leave.
const drainUntil = performance.now() + 5000;
while (watches.some((w) => w.inFlight > 0) && performance.now() < drainUntil) await sleep(50);
const unanswered = watches.reduce((a, w) => a + w.inFlight, 0);
// With holdForMemory: connected and quiet until the parent has measured the memory the server keeps (bounded).
if (holdForMemory) {
  process.send({ type: 'quiet' });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 120_000);
    process.on('message', (m) => {
      if (m?.type === 'release') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
for (const w of watches) w.socket.close();

const pct = (arr, p) => {
  if (arr.length === 0) return null;
  const s = Float64Array.from(arr).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
process.send({
  type: 'result',
  connectS,
  unanswered,
  phases: results.map((ph) => {
    const s = (ph.end - ph.start) / 1000;
    return {
      name: ph.name,
      seconds: s,
      samplesPerS: ph.samplesAcked / s,
      messagesPerS: ph.messagesAcked / s,
      ack: { n: ph.ackMs.length, p50: pct(ph.ackMs, 50), p99: pct(ph.ackMs, 99), max: pct(ph.ackMs, 100) },
      push: { n: ph.pushMs.length, ...ph.pushes, p50: pct(ph.pushMs, 50), p99: pct(ph.pushMs, 99), max: pct(ph.pushMs, 100) },
      errors: ph.errors,
      generatorCpu: ph.cpuUs / 1e6 / s,
    };
  }),
});
setTimeout(() => process.exit(0), 200);
