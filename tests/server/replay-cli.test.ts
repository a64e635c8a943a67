// `crampguard replay` (the built CLI) against a real server: NDJSON alerts as they arrive, the report last, and
// the same prompts as `analyze`; bad usage exits 2 with one line.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import { decodeFit } from '../../ingest/fit.js';
import { main } from '../../src/cli/main.js';
import { alertKey, newAthlete, sqliteBackend, startTestServer, type TestServer } from './helpers.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'crampguard.js');
const FILE = join(ROOT, 'fixtures', 'scenarios', 'race-10k-fast-start.fit');
const PROFILE = { massKg: 68, hrRest: 50, hrMax: 188 };

describe('crampguard replay', () => {
  let server: TestServer;
  let token: string;
  const tmp = mkdtempSync(join(tmpdir(), 'cg-replay-'));
  const profileFile = join(tmp, 'profile.json');
  beforeAll(async () => {
    writeFileSync(profileFile, JSON.stringify(PROFILE));
    server = await startTestServer(sqliteBackend);
    token = (await newAthlete(server.url, 'Replayer')).token;
  });
  afterAll(async () => {
    await server?.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('prints each alert as NDJSON, then the report, with the prompts of `analyze`', async () => {
    const keys = analyzeRun(await decodeFit(readFileSync(FILE)), { profile: PROFILE, conditions: { tempC: 22, humidity: 55 } }).alerts.map(alertKey);
    expect(keys.length).toBeGreaterThan(0);
    const { stdout } = await run(process.execPath, [
      BIN, 'replay', FILE, '--url', server.url, '--token', token, '--json', '--profile', profileFile, '--temp', '22', '--humidity', '55',
    ]);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const report = lines.at(-1)!;
    expect(report).toMatchObject({ ok: true, file: FILE });
    const alerts = lines.slice(0, -1);
    expect(alerts.every((a) => a.type === 'alert')).toBe(true);
    expect(alerts.map((a) => alertKey(a as never))).toEqual(keys);
    expect((report.alerts as never[]).map(alertKey)).toEqual(keys);
  });

  it.each([
    [['replay'], 'activity file'],
    [['replay', FILE, '--token', 'x'], '--url'],
    [['replay', FILE, '--url', 'http://127.0.0.1:1'], '--token'],
    [['replay', FILE, '--url', 'http://127.0.0.1:1', '--token', 'x', '--speed', 'fast'], '--speed'],
    [['replay', FILE, '--url', 'http://127.0.0.1:1', '--token', 'x', '--profile', '{"hrMax":"high"}'], '--profile'],
  ])('exits 2 on bad usage %#', async (args, mention) => {
    // In process (the dispatcher is what bin/crampguard.js calls), capturing stderr.
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      expect(await main(args)).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(stderr).toContain(mention);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a wrong token fails with its code, not a stack', async () => {
    const r = await run(process.execPath, [BIN, 'replay', FILE, '--url', server.url, '--token', 'cg_not-a-token-at-all', '--json']).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect((r as { code: number }).code).toBe(1);
    expect(JSON.parse((r as { stdout: string }).stdout.trim())).toEqual({ error: { code: 'BAD_TOKEN', message: expect.any(String) } });
  });
});
