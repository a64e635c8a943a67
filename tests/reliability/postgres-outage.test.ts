// PostgreSQL unavailable for a while under live runs. The shared server is never stopped: the service talks to
// it through a TCP proxy this test owns, and the "outage" is the proxy cutting every connection and refusing
// new ones. Nothing acked may be lost, the runs must end with the alerts of `analyze`, /healthz must say the
// store is down meanwhile, and everything must come back by itself. Skipped without TEST_DATABASE_URL.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { api, startTestServer, type Backend } from '../server/helpers.js';
import { loadFleet, printFigures, promptProbe, runFleet, scale, tally } from './fleet.js';

const PG_URL = process.env.TEST_DATABASE_URL;
if (!PG_URL) console.log('[reliability] postgres outage: skipped: TEST_DATABASE_URL is not set (CI sets it via .ci/run)');

/** A TCP proxy to the database that can be taken down (every connection cut, new ones refused) and back up. */
async function proxyTo(host: string, port: number): Promise<{ port: number; down(): void; up(): void; close(): Promise<void> }> {
  let isDown = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (isDown) return void client.destroy();
    const upstream = connect(port, host);
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    down() {
      isDown = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    up() {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!PG_URL)('PostgreSQL unavailable for a while', () => {
  const schema = `t_rel_outage_${Date.now().toString(36)}`;
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it('prompts go on from memory, nothing acked is lost, /healthz says degraded, and all recovers by itself', { timeout: 180_000 }, async () => {
    const OUTAGE_MS = scale('RELIABILITY_OUTAGE_MS', 3000);
    const target = new URL(PG_URL!);
    const proxy = await proxyTo(target.hostname, Number(target.port || 5432));
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(PG_URL!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const backend: Backend = {
      name: 'postgres-via-proxy',
      skip: null,
      async open() {
        const store = await openStore({ databaseUrl: viaProxy.toString(), schema, poolSize: 4 });
        return { store, dataDir: '/nonexistent', drop: () => store.close() };
      },
    };
    const server = await startTestServer(backend);
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    cleanups.push(() => server.drop());

    const runs = await loadFleet(4);
    // A watch of its own whose first prompt comes in the minutes it streams while the database is cut off.
    const probe = await promptProbe(server.url, (await loadFleet(1))[0]!);
    let prompt = null as { ms: number; at: number } | null;
    let upAt = 0;
    const health: { status: number; code?: string; state?: string; at: number }[] = [];
    // The orchestrator's probes: liveness must stay 200 (a restart would not bring the database back), readiness not.
    const livez: number[] = [];
    const readyz: number[] = [];
    let reconnect = { recovered: false };
    const outage = async () => {
      await probe.warmUp(30);
      await new Promise((r) => setTimeout(r, 300));
      proxy.down();
      const t0 = performance.now();
      // The probe's connection drops too, in the outage: socket.io recovers it without the handshake's token
      // lookup, and the client resends without a start, so its prompt still needs no database.
      reconnect = await probe.dropConnection();
      const promptArrived = probe.sendThroughFirstAlert().then((p) => (prompt = p));
      while (performance.now() - t0 < OUTAGE_MS) {
        const h = await api(server.url, 'GET', '/healthz');
        health.push({ status: h.status, code: h.body?.error?.code, state: h.body?.status, at: performance.now() - t0 });
        livez.push((await api(server.url, 'GET', '/livez')).status);
        readyz.push((await api(server.url, 'GET', '/readyz')).status);
        await new Promise((r) => setTimeout(r, 250));
      }
      proxy.up();
      upAt = performance.now();
      await promptArrived;
      return upAt - t0;
    };
    const started = performance.now();
    const clients: import('../../src/wire/client.js').WatchClient[] = [];
    const watchdog = setTimeout(() => {
      for (const c of clients) console.log('[diag]', JSON.stringify({ stats: c.stats, backlog: c.backlog, connected: c.socket.connected, run: c.run?.status, seq: c.run?.contiguousSeq }));
      for (const l of server.logs().filter((x) => (x.level as number) >= 40).slice(-20)) console.log('[diag log]', JSON.stringify(l).slice(0, 400));
    }, 45_000);
    const [outcomes, downMs] = await Promise.all([runFleet({ url: server.url, runs, athletes: 1, speed: 600, onStarted: (c) => clients.push(c) }), outage()]).finally(() => clearTimeout(watchdog));
    const probeOutcome = await probe.finish();
    const { figures, mismatches } = await tally(server.url, [...outcomes, probeOutcome]);
    const after = await api(server.url, 'GET', '/healthz');
    printFigures('postgres outage', {
      downMs,
      promptDuringOutage: prompt !== null && prompt!.at < upAt ? 'yes' : 'no',
      probeReconnectRecovered: reconnect.recovered ? 'yes' : 'no',
      promptMs: prompt?.ms ?? -1,
      healthChecksDuringOutage: health.length,
      health503: health.filter((h) => h.status === 503).length,
      livez200: livez.filter((s) => s === 200).length,
      readyz503: readyz.filter((s) => s === 503).length,
      ...figures,
      wallS: (performance.now() - started) / 1000,
    });
    expect(health.length).toBeGreaterThan(2);
    // The prompt reached the watch from memory while the database was still cut off.
    expect(reconnect.recovered).toBe(true);
    expect(prompt).not.toBeNull();
    expect(prompt!.at).toBeLessThan(upAt);
    expect(figures.samplesStored).toBe(figures.samplesSent);
    expect(health.filter((h) => h.status === 503 && h.code === 'STORE_UNAVAILABLE' && h.state === 'degraded').length).toBeGreaterThan(0);
    expect(livez.length).toBeGreaterThan(2);
    expect(livez.every((s) => s === 200)).toBe(true);
    expect(readyz.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect((await api(server.url, 'GET', '/readyz')).status).toBe(200);
    expect(figures.samplesLost).toBe(0);
    expect(figures.samplesDoubled).toBe(0);
    expect(mismatches).toEqual([]);
    expect(figures.alertsShownTwice).toBe(0);
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('ok');
  });
});
