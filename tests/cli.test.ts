/**
 * The CLI's conventions, on the built CLI (`npx tsc -p tsconfig.build.json` first): --version, --help on every
 * command exits 0, usage errors exit 2 with a message on stderr, unknown options refused, results on stdout and
 * errors on stderr, `-` reads stdin, a reader that goes away ends the output quietly, the progress line never
 * shares a line with a result, replay to an address where nothing listens fails with a message.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const bin = new URL('../bin/crampguard.js', import.meta.url).pathname;
const root = new URL('..', import.meta.url).pathname;
const SCENARIO = join(root, 'fixtures/scenarios/hr-only.fit');
const TCX = join(root, 'fixtures/xml/vkurup__python-tcxparser/test.tcx');
const GPX = join(root, 'fixtures/xml/corriporai__runpandas/feaf2949-0da0-47cf-b4ed-6818c70d0733.gpx');
const COMMANDS = ['samples', 'inspect', 'analyze', 'serve', 'replay', 'export'];
const tmp = mkdtempSync(join(tmpdir(), 'cg-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cg = (args: string[], input?: Buffer) => spawnSync('node', [bin, ...args], { encoding: 'utf8', ...(input ? { input } : {}) });

describe('crampguard CLI', () => {
  it('lists its commands with --help', () => {
    const out = execFileSync('node', [bin, '--help'], { encoding: 'utf8' });
    for (const cmd of COMMANDS) expect(out).toContain(cmd);
  });

  it('refuses an unknown command with status 2', () => {
    const r = spawnSync('node', [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = cg(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`crampguard ${version}`);
  });

  it.each(COMMANDS)('%s --help prints its usage on stdout and exits 0', (cmd) => {
    const r = cg([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`usage: crampguard ${cmd}`));
    expect(r.stderr).toBe('');
  });

  it.each(['samples', 'inspect', 'analyze', 'replay', 'serve'])('%s refuses an unknown option: exit 2, message and usage on stderr', (cmd) => {
    const r = cg([cmd, '--frobnicate', SCENARIO]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^crampguard ${cmd}: .*--frobnicate`));
    expect(r.stderr).toContain(`usage: crampguard ${cmd}`);
  });

  it('usage errors on stderr, exit 2: no file, a bad number', () => {
    for (const args of [['samples'], ['inspect'], ['analyze'], ['analyze', SCENARIO, '--temp', 'hot'], ['analyze', SCENARIO, '--humidity=120']]) {
      const r = cg(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^crampguard \w+: /);
    }
  });

  it('- reads standard input: a gzipped TCX piped into inspect and samples', () => {
    const gz = gzipSync(readFileSync(TCX));
    const inspect = cg(['inspect', '-'], gz);
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/^format: +TCX \(gzip\)$/m);
    const samples = cg(['samples', '-'], gz);
    expect(samples.status).toBe(0);
    const first = JSON.parse(samples.stdout.split('\n')[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ t: 0, hr: 62, lat: 35.9518802, lon: -79.0931872 });
  });

  it('analyze: GPX and TCX analysed; a bad file is an error on stderr (text) or a data line (--json), exit 1', () => {
    const bad = join(tmp, 'notes.gpx');
    execFileSync('sh', ['-c', `echo 'not an activity' > ${bad}`]);
    const text = cg(['analyze', GPX, bad]);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain(GPX);
    expect(text.stdout).not.toContain('notes.gpx');
    expect(text.stderr).toMatch(/notes\.gpx: error FIT_NOT_FIT: /);
    const json = cg(['analyze', '--json', TCX, bad]);
    expect(json.status).toBe(1);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
    expect(lines.map((l) => l.ok)).toEqual([true, false]);
    expect(lines[1]!.error!.code).toBe('FIT_NOT_FIT');
  });

  it('analyze --json | head -c: ends quietly, no EPIPE stack', async () => {
    const files = Array.from({ length: 6 }, () => TCX);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('node', [bin, 'analyze', '--json', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.stdout.once('data', () => child.stdout.destroy()); // the reader goes away after its first bytes
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.code).toBe(0);
  });

  it('the progress line never shares a line with a result (stdout and stderr into one file)', () => {
    const out = join(tmp, 'both.txt');
    const fd = openSync(out, 'w');
    spawnSync('node', [bin, 'analyze', '--json', TCX, GPX, TCX], { stdio: ['ignore', fd, fd], env: { ...process.env, CRAMPGUARD_PROGRESS: '1' } });
    closeSync(fd);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('] 1/3 '); // it was drawn
    // Each result starts a line of its own once the progress line is erased (\r and erase-line before it).
    const results = text.split('\n').filter((l) => l.includes('"file"'));
    expect(results).toHaveLength(3);
    for (const l of results) {
      const erased = l.lastIndexOf('\r\x1b[2K');
      expect(erased).toBeGreaterThanOrEqual(0);
      expect(l.slice(erased + 5).startsWith('{"file"')).toBe(true);
    }
  });

  it('replay to an address where nothing listens fails with a message, exit 1', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p)); // a port nothing listens on now
      });
    });
    const r = cg(['replay', SCENARIO, '--url', `http://127.0.0.1:${port}`, '--token', 'cg_whatever']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`crampguard replay: SERVER_UNREACHABLE: nothing answers at http://127.0.0.1:${port} \\(ECONNREFUSED\\)`));
  });
});
