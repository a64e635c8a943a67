// `crampguard replay --url A,B`: the watch tries the addresses in turn. The first one here refuses connections
// (nothing listens there), so the replay must move on to the second and finish with the prompts of `analyze`;
// a bad address in the list is a usage error naming it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import { decodeFit } from '../../ingest/fit.js';
import { alertKey, newAthlete, sqliteBackend, startTestServer, type TestServer } from '../server/helpers.js';
import { ROOT } from './processes.js';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin', 'crampguard.js');
const FILE = join(ROOT, 'fixtures', 'scenarios', 'race-10k-fast-start.fit');

/** A port nothing listens on (taken, then freed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('crampguard replay with several URLs', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend);
    token = (await newAthlete(server.url, 'Failover', { massKg: 68, hrRest: 50, hrMax: 188 })).token;
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('moves past an address that refuses and ends the run on the next, with the prompts of `analyze`', async () => {
    const keys = analyzeRun(await decodeFit(readFileSync(FILE)), { profile: { massKg: 68, hrRest: 50, hrMax: 188 }, conditions: { tempC: 30, humidity: 70 } }).alerts.map(alertKey);
    expect(keys.length).toBeGreaterThan(0);
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const { stdout } = await run(process.execPath, [BIN, 'replay', FILE, '--url', `${dead},${server.url}`, '--token', token, '--json', '--temp', '30', '--humidity', '70']);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const report = lines.at(-1) as { alerts: { t: number; kind: string; cause: string }[] };
    expect(lines.slice(0, -1).map((a) => alertKey(a as never))).toEqual(keys);
    expect(report.alerts.map(alertKey)).toEqual(keys);
  });

  it('--url repeated works too; a bad address in the list is a usage error that names it', async () => {
    const err = await run(process.execPath, [BIN, 'replay', FILE, '--url', server.url, '--url', 'ftp://x', '--token', token]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('ftp://x');
    expect((err as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
  });
});
