// Slowloris with no account (issue 18, item 4): many connections from one address that send their headers a
// byte at a time. The per-address connection cap closes what is over it at once, the headers timeout closes the
// rest, and a normal client on another address is served all along (its latency is printed, not asserted).
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, sqliteBackend, startTestServer, type TestServer } from '../server/helpers.js';

const ATTACKER = '127.0.0.2';
const SLOW = 300;
const CAP = 64;

/** Whether this machine routes a second loopback address (Linux does: all of 127/8). */
function canBind(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: address });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('slowloris', () => {
  let server: TestServer;
  let skip: string | null = null;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend, { CONNECTIONS_PER_ADDRESS: String(CAP), HTTP_HEADERS_TIMEOUT_S: '2', RATE_LIMIT_ADDRESS_PER_MIN: '0' });
    if (!(await canBind(ATTACKER, server.port))) skip = `cannot connect from ${ATTACKER} here`;
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('slow connections from one address are capped and timed out; a normal client is served meanwhile', async (ctx) => {
    if (skip) {
      console.log(`[reliability] slowloris: skipped: ${skip}`);
      return ctx.skip();
    }
    const sockets: Socket[] = [];
    let closed = 0;
    const closedAt: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from(
        { length: SLOW },
        () =>
          new Promise<void>((resolve) => {
            const s = connect({ host: '127.0.0.1', port: server.port, localAddress: ATTACKER });
            sockets.push(s);
            s.on('error', () => {});
            s.once('close', () => {
              closed++;
              closedAt.push(performance.now() - started);
            });
            s.once('connect', () => {
              s.write('GET /api/runs HTTP/1.1\r\nHost: x\r\n');
              resolve();
            });
            s.once('close', () => resolve());
          }),
      ),
    );
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-a: b\r\n');
    }, 300);
    try {
      // Meanwhile a normal client (another address) asks for health and a page of the API.
      const latencies: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        const r = await api(server.url, 'GET', '/healthz');
        latencies.push(performance.now() - t0);
        expect(r.status).toBe(200);
      }
      latencies.sort((x, y) => x - y);
      // The cap: everything past CAP from the attacker's address was closed at once.
      const openSoon = sockets.filter((s) => !s.destroyed).length;
      expect(openSoon).toBeLessThanOrEqual(CAP);
      expect(closed).toBeGreaterThanOrEqual(SLOW - CAP);
      // The headers timeout (2 s) closes the rest, however slowly they keep sending.
      const deadline = performance.now() + 15_000;
      while (sockets.some((s) => !s.destroyed) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const stillOpen = sockets.filter((s) => !s.destroyed).length;
      expect(stillOpen).toBe(0);
      console.log(
        `[reliability] slowloris: ${SLOW} slow connections from ${ATTACKER}: ${SLOW - openSoon} closed at once (cap ${CAP}), ` +
          `the rest by the 2 s headers timeout (last closed after ${(Math.max(...closedAt) / 1000).toFixed(1)} s); ` +
          `a normal client's /healthz meanwhile: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
      );
      // And the attacker's address can connect again once its connections are gone.
      const again = await new Promise<number>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: server.port, localAddress: ATTACKER });
        let text = '';
        s.on('data', (d) => (text += String(d)));
        s.on('error', reject);
        s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
        s.write('GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      expect(again).toBe(200);
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
  });
});
