/**
 * Real parts for the dashboard's browser tests: the built server (`node bin/crampguard.js serve`) on a free
 * port with a fresh DATA_DIR, and Debian's chromium driven by playwright-core. Where chromium or the build is
 * missing, `browserSkipReason()` says why and the suites skip.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');

export function chromiumPath(): string | null {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : null;
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    return found || null;
  } catch {
    return null;
  }
}

/** Null when the browser tests can run; otherwise the reason they skip (printed once). */
export function browserSkipReason(): string | null {
  if (!chromiumPath()) return 'chromium is not installed (apt-get install -y chromium); dashboard browser tests skipped';
  if (!existsSync(join(ROOT, 'dist', 'dashboard', 'index.html'))) return 'dist/dashboard is not built (npm run build); dashboard browser tests skipped';
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) return 'dist/src is not built (npm run build); dashboard browser tests skipped';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningServer {
  url: string;
  dataDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-dash-'));
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'crampguard.js'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within 20 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Chromium with a fresh profile directory (playwright takes it as the persistent context's userDataDir rather
 * than as `--user-data-dir`). Pages of the one context share the origin's localStorage, as tabs would.
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'cg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath()!,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot (the whole page unless `fullPage` is false) under test-artifacts/dashboard/. */
export async function snap(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/**
 * Uncaught exceptions and console errors, so a test can assert the page ran clean. Chromium logs every HTTP
 * error response as "Failed to load resource"; tests that provoke one (bad token, bad file) expect it.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/**
 * How many pixels of each matching canvas are drawn in `hex` (±24 per channel, for anti-aliasing). Axes and
 * grid are grey, so only a plotted series in that colour counts: a blank chart scores 0.
 */
type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null };

export async function pixelsInColour(page: Page, selector: string, hex: string): Promise<number[]> {
  const target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return page.$$eval(
    selector,
    (canvases, rgb) =>
      // Runs in the page; typed structurally because the test project has no DOM lib.
      (canvases as unknown as Canvas[]).map((canvas) => {
        const ctx = canvas.getContext('2d');
        if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! < 200) continue;
          if (Math.abs(data[i]! - rgb[0]!) < 24 && Math.abs(data[i + 1]! - rgb[1]!) < 24 && Math.abs(data[i + 2]! - rgb[2]!) < 24) n++;
        }
        return n;
      }),
    target,
  );
}

export function cleanupDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
