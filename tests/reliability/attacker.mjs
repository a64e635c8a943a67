// The hostile watches of socket-hostile.test.ts, in a process of their own so that the quiet watch measured by
// the test shares no event loop with them. Plain JavaScript (a forked child runs it as is).
// Parent → child: {type:'start', url, attackerToken, victimRunId, victimServerId, badHandshakes, attacks[]}
// then {type:'pause'} / {type:'resume'} any number of times, and {type:'stop'}; child → parent: {type:'ready'} once the attack runs, then {type:'result', …}.
import { io } from 'socket.io-client';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const codeOf = (r) => (r.ok ? 'ok' : (r.error?.code ?? '?'));
const socket = (url, token) => io(`${url}/watch`, { transports: ['websocket'], auth: token ? { token } : {}, reconnection: false, forceNew: true });
/**
 * The code of a refused handshake: `err.data.code` from the socket.io handshake, or `HTTP_<status>` when the
 * server turned the websocket upgrade away (an address that goes on after RATE_LIMITED gets 429 there).
 */
const refusalCode = (err) => {
  if (err?.data?.code) return err.data.code;
  const status = /server response: (\d+)/.exec(String(err?.description?.message))?.[1];
  return status ? `HTTP_${status}` : 'NO_CODE';
};
const connected = (s) =>
  new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });

/** Handshakes with the attacker's good token refused RATE_LIMITED (and retried). */
let goodTokenWaits = 0;
/** Connects with a good token, waiting out RATE_LIMITED refusals (the bad handshakes share this address). */
async function open(url, token) {
  for (;;) {
    const s = socket(url, token);
    try {
      await connected(s);
      return s;
    } catch (err) {
      s.close();
      const code = refusalCode(err);
      if (code !== 'RATE_LIMITED' && code !== 'HTTP_429') throw err;
      goodTokenWaits++;
      await sleep(Math.min(5000, Math.max(50, err.data?.retryAfterMs ?? 1000)));
    }
  }
}

let attacking = true;
/** While paused the attacks wait between messages (the test alternates quiet and attacked windows). */
let paused = false;
let resumeWaiters = [];
const gate = () => (paused ? new Promise((r) => resumeWaiters.push(r)) : undefined);
const codes = {};
const count = (code) => (codes[code] = (codes[code] ?? 0) + 1);
/** Hostile messages the server accepted: must stay empty. */
const accepted = [];

async function junk(url, token, victimRunId, victimServerId) {
  const s = await open(url, token);
  const runId = `mallory-${Date.now()}`;
  await s.emitWithAck('start', { runId, startTime: Date.now() });
  const cases = [
    ['admin', { drop: 'tables' }],
    ['__proto__', {}],
    ['samples', 42],
    ['samples', { runId, seq: 'one', samples: [] }],
    ['samples', { runId, seq: 1.5, samples: [{ t: 0 }] }],
    ['samples', { runId, seq: -1, samples: [{ t: 0 }] }],
    ['samples', { runId, seq: 1e21, samples: [{ t: 0 }] }],
    ['samples', { runId, seq: 1, samples: [{ t: 'NaN', hr: 'Infinity' }] }],
    ['samples', { runId, seq: 1, samples: [{ t: Number.NaN, hr: Number.POSITIVE_INFINITY }] }], // JSON: null
    ['samples', { runId, seq: 1, samples: [{ t: 1e308 * 10 }] }],
    ['samples', { runId, seq: 1, samples: Array.from({ length: 601 }, (_, i) => ({ t: i })) }],
    ['samples', { runId, seq: 1_000_000, samples: [{ t: 0, hr: 150 }] }],
    ['samples', { runId: victimRunId, seq: 1, samples: [{ t: 0, hr: 150 }] }],
    ['end', { runId: victimRunId }],
    ['follow', { runId: victimServerId }],
    ['start', { runId: '../../etc/passwd', startTime: 0 }],
    ['start', { runId: 'x'.repeat(10_000), startTime: 0 }],
    ['event', { runId, id: 'e', event: { type: 'drink', t: 0, ml: 1e9 } }],
  ];
  let sent = 0;
  while (attacking) {
    for (const [ev, msg] of cases) {
      await gate();
      const r = await s.emitWithAck(ev, msg);
      sent++;
      if (r.ok) accepted.push(`${ev} ${JSON.stringify(msg).slice(0, 80)}`);
      else count(codeOf(r));
    }
    await sleep(20);
  }
  s.close();
  return sent;
}

async function flood(url, token) {
  const s = await open(url, token);
  const runId = `flood-${Date.now()}`;
  await s.emitWithAck('start', { runId, startTime: Date.now() });
  const perBatch = 500;
  let seq = 0;
  /** The highest seq the server confirmed (stored, or the one before the seq it expects). */
  let confirmed = 0;
  let stored = 0;
  let activeMs = 0;
  while (attacking) {
    await gate();
    const waveAt = performance.now();
    // 20 batches of 500 a second = 10,000 samples a second, acks not awaited.
    const wave = Array.from({ length: 20 }, () => {
      seq++;
      const from = (seq - 1) * perBatch;
      return s.emitWithAck('samples', { runId, seq, samples: Array.from({ length: perBatch }, (_, i) => ({ t: from + i, hr: 170 })) });
    });
    const acks = await Promise.all(wave);
    for (const a of acks) {
      if (a.ok) stored++;
      else count(codeOf(a));
      if (typeof a.contiguousSeq === 'number') confirmed = Math.max(confirmed, a.contiguousSeq);
      else if (typeof a.expectedSeq === 'number') confirmed = Math.max(confirmed, a.expectedSeq - 1);
    }
    // Refused batches (RATE_LIMITED) leave their seqs free: go on after the last one the server has.
    seq = confirmed;
    await sleep(Math.max(0, 1000 - (performance.now() - waveAt)));
    activeMs += performance.now() - waveAt;
  }
  s.close();
  return (stored * perBatch) / (activeMs / 1000);
}

async function frameBomb(url, token) {
  // Over engine.io's 1 MB frame limit: the server closes that one connection. Repeated (one a second) while
  // the attack lasts; the first close reason is reported.
  let first;
  while (attacking || first === undefined) {
    await gate();
    const s = await open(url, token);
    const closed = new Promise((resolve) => s.once('disconnect', resolve));
    s.emit('samples', { runId: 'frame-bomb-run', seq: 1, samples: 'x'.repeat(1_500_000) }, () => {});
    first ??= await closed;
    s.close();
    await sleep(1000);
  }
  return first;
}

/** Bad-token handshakes from this one address: at least `total`, and on while the attack lasts. */
async function handshakes(url, total) {
  const refusals = {};
  for (let done = 0; done < total || attacking; ) {
    await gate();
    const wave = 50;
    await Promise.all(
      Array.from({ length: wave }, async (_, i) => {
        const s = socket(url, i % 10 === 0 ? undefined : `cg_forged-${done + i}-${'x'.repeat(30)}`);
        try {
          await connected(s);
          refusals.CONNECTED = (refusals.CONNECTED ?? 0) + 1;
        } catch (err) {
          const code = refusalCode(err);
          refusals[code] = (refusals[code] ?? 0) + 1;
        } finally {
          s.close();
        }
      }),
    );
    done += wave;
    await sleep(20);
  }
  return refusals;
}

process.on('message', async (msg) => {
  if (msg.type === 'stop' || msg.type === 'resume') {
    if (msg.type === 'stop') attacking = false;
    paused = false;
    const waiters = resumeWaiters;
    resumeWaiters = [];
    for (const w of waiters) w();
    return;
  }
  if (msg.type === 'pause') {
    paused = true;
    return;
  }
  if (msg.type !== 'start') return;
  const on = new Set(msg.attacks);
  const tasks = [
    on.has('junk') ? junk(msg.url, msg.attackerToken, msg.victimRunId, msg.victimServerId) : 0,
    on.has('flood') ? flood(msg.url, msg.attackerToken) : 0,
    on.has('frames') ? frameBomb(msg.url, msg.attackerToken) : 'not run',
    on.has('handshakes') ? handshakes(msg.url, msg.badHandshakes) : {},
  ];
  process.send({ type: 'ready' });
  try {
    const [junkMessages, floodSamplesPerS, frameClose, refusals] = await Promise.all(tasks);
    process.send({ type: 'result', junkMessages, floodSamplesPerS, frameClose, refusals, codes, accepted, goodTokenWaits });
  } catch (err) {
    process.send({ type: 'result', error: String(err) });
  }
  setTimeout(() => process.exit(0), 50);
});
