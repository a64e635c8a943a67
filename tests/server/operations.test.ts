// Operations conventions (issue 15): /livez apart from /readyz, prom-client metrics with the default process and
// Node series, request ids and one access line per request with pid and hostname, TRUST_PROXY, and `serve`
// printing the URL to open.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, newAthlete, sqliteBackend, startTestServer, type TestServer } from './helpers.js';

describe('probes, metrics and logs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend);
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('one access line per request, with pid, hostname and the request id, which is sent back (kept when the client gives one)', async () => {
    const given = await api(server.url, 'GET', '/livez', { headers: { 'x-request-id': 'lb-7f3a.42' } });
    expect(given.headers.get('x-request-id')).toBe('lb-7f3a.42');
    const made = await api(server.url, 'GET', '/api/runs');
    const id = made.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // A header that could forge log lines is replaced, not echoed.
    const forged = await api(server.url, 'GET', '/livez', { headers: { 'x-request-id': 'a b"}{' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 50));
    const access = server.logs().filter((l) => l.msg === 'request');
    const mine = access.filter((l) => l.reqId === 'lb-7f3a.42' || l.reqId === id);
    expect(mine).toHaveLength(2);
    expect(mine.find((l) => l.reqId === id)).toMatchObject({ method: 'GET', url: '/api/runs', status: 401, pid: process.pid, hostname: hostname(), addr: '127.0.0.1' });
    expect(typeof mine[0]!.ms).toBe('number');
  });

  it('/metrics carries prom-client\'s default process and Node series and the crampguard ones', async () => {
    const a = await newAthlete(server.url);
    expect((await api(server.url, 'GET', '/api/runs', { token: a.token })).status).toBe(200);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_gc_duration_seconds_bucket',
      'crampguard_live_runs',
      'crampguard_watch_sockets',
      'crampguard_uploads_admitted',
      'crampguard_samples_total',
      'crampguard_event_loop_lag_seconds',
      'crampguard_event_loop_lag_max_seconds',
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'));
    }
    const lag = Number(/^crampguard_event_loop_lag_seconds ([\d.e+-]+)$/m.exec(text)?.[1]);
    expect(lag).toBeGreaterThanOrEqual(0);
    // Printed, not asserted (shared machines): an idle loop's mean delay, the monitor's own interval taken out.
    console.log(`[operations] idle event-loop delay (mean since the last scrape): ${(lag * 1000).toFixed(2)} ms`);
  });

  it('/livez stays 200 while the store is gone; /readyz says 503 STORE_UNAVAILABLE with Retry-After', async () => {
    expect((await api(server.url, 'GET', '/readyz')).body).toMatchObject({ ok: true, status: 'ready' });
    // The store really closed (every call now fails STORE_UNAVAILABLE), as during an outage.
    const own = await startTestServer(sqliteBackend);
    try {
      await own.store.close();
      const live = await api(own.url, 'GET', '/livez');
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ ok: true, status: 'live' });
      const ready = await api(own.url, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe('STORE_UNAVAILABLE');
      expect(ready.headers.get('retry-after')).toBe('1');
      expect((await api(own.url, 'GET', '/healthz')).status).toBe(503);
    } finally {
      await own.drop();
    }
  });
});

describe('TRUST_PROXY', () => {
  let direct: TestServer;
  let behind: TestServer;
  beforeAll(async () => {
    [direct, behind] = await Promise.all([startTestServer(sqliteBackend), startTestServer(sqliteBackend, { TRUST_PROXY: 'loopback' })]);
  });
  afterAll(async () => {
    await Promise.all([direct?.drop(), behind?.drop()]);
  });

  it('X-Forwarded-For names the client only when the peer is a trusted proxy', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'xff-check' };
    await api(direct.url, 'GET', '/livez', { headers });
    await api(behind.url, 'GET', '/livez', { headers });
    await new Promise((r) => setTimeout(r, 50));
    const line = (s: TestServer) => s.logs().find((l) => l.msg === 'request' && l.reqId === 'xff-check');
    expect(line(direct)?.addr).toBe('127.0.0.1');
    expect(line(behind)?.addr).toBe('203.0.113.9');
  });
});

describe('crampguard serve', () => {
  it('prints the URL to open on stderr, and logs it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cg-serve-url-'));
    const proc = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'crampguard.js'), 'serve'], {
      env: { ...process.env, PORT: '0', HOST: '0.0.0.0', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      let stdout = '';
      proc.stdout!.on('data', (d) => (stdout += String(d)));
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${stderr}`)), 30_000);
        proc.stderr!.on('data', (d) => {
          stderr += String(d);
          const m = /open (http:\/\/localhost:\d+\/) in a browser/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        proc.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      const port = Number(/:(\d+)\//.exec(line)![1]);
      expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
      expect(stdout).toContain(`"url":"${line}"`);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
