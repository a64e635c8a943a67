// Server settings that change behaviour: the upload size limit and closed registration.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, newAthlete, sqliteBackend, startTestServer, type TestServer } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('upload limit and registration', () => {
  let open: TestServer;
  let closed: TestServer;
  beforeAll(async () => {
    [open, closed] = await Promise.all([
      startTestServer(sqliteBackend, { UPLOAD_LIMIT_MB: '0.1' }),
      startTestServer(sqliteBackend, { REGISTRATION: 'closed' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.drop(), closed?.drop()]);
  });

  it('answers 413 for a file over the limit, raw or multipart, and stores nothing', async () => {
    const { token } = await newAthlete(open.url);
    const big = readFileSync(join(ROOT, 'fixtures', 'scenarios', 'hot-long-drift.fit'));
    expect(big.length).toBeGreaterThan(0.1 * 1024 * 1024);
    const raw = await api(open.url, 'POST', '/api/runs', { token, body: big, headers: { 'content-type': 'application/octet-stream' } });
    expect(raw.status).toBe(413);
    expect(raw.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const form = new FormData();
    form.append('file', new Blob([big]), 'big.fit');
    const multi = await api(open.url, 'POST', '/api/runs', { token, body: form });
    expect(multi.status).toBe(413);
    expect((await api(open.url, 'GET', '/api/runs', { token })).body.runs).toEqual([]);
    // A file under the limit still goes through.
    const small = readFileSync(join(ROOT, 'fixtures', 'scenarios', 'ten-minute-run.fit'));
    expect((await api(open.url, 'POST', '/api/runs', { token, body: small, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
    const metrics = await fetch(`${open.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/crampguard_uploads_total\{outcome="created"\} 1/);
    expect(metrics).toMatch(/crampguard_upload_duration_seconds_count [1-9]/);
  });

  it('refuses new athletes with 403 when registration is closed', async () => {
    const r = await api(closed.url, 'POST', '/api/athletes', { json: { name: 'Late' } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('REGISTRATION_CLOSED');
  });

  it('serves a home page linking to the API docs when no dashboard is built', async () => {
    const home = await fetch(`${closed.url}/`);
    const text = await home.text();
    expect(home.headers.get('content-security-policy')).toBeTruthy();
    // Either the built dashboard or the minimal page.
    expect(text).toMatch(/<html/i);
  });
});
