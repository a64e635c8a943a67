// Shared helpers for the server tests: a real server on a random port with a temporary store.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import pg from 'pg';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { commonErrors, operationFor } from '../../src/server/openapi.js';
import { ErrorBodySchema } from '../../src/wire/schemas.js';

/** Labelled synthetic runs committed in the repository. */
export const SCENARIOS = join(import.meta.dirname, '..', '..', 'fixtures', 'scenarios');

export interface Backend {
  name: string;
  /** Why the backend's tests are skipped, or null. */
  skip: string | null;
  /** A fresh, empty store; `drop` removes it. */
  open(): Promise<{ store: Store | undefined; dataDir: string; drop(): Promise<void> }>;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  skip: null,
  async open() {
    const dataDir = mkdtempSync(join(tmpdir(), 'cg-server-'));
    return { store: undefined, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  },
};

const PG_URL = process.env.TEST_DATABASE_URL;
export const postgresBackend: Backend = {
  name: 'postgres',
  skip: PG_URL ? null : 'TEST_DATABASE_URL is not set (CI sets it via .ci/run)',
  async open() {
    const schema = `t_server_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    const store = await openStore({ databaseUrl: PG_URL!, schema, poolSize: 4 });
    const dataDir = mkdtempSync(join(tmpdir(), 'cg-server-'));
    return {
      store,
      dataDir,
      async drop() {
        await store.close();
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

/** Collects pino's JSON lines (tests can assert on them) instead of printing them. */
export function logSink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface TestServer extends RunningServer {
  drop(): Promise<void>;
  logs: () => Record<string, unknown>[];
}

export async function startTestServer(backend: Backend, env: Record<string, string> = {}): Promise<TestServer> {
  const { store, dataDir, drop } = await backend.open();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env });
  const sink = logSink();
  const server = await startServer(config, { logDestination: sink.stream, ...(store ? { store } : {}) });
  return {
    ...server,
    logs: sink.lines,
    async drop() {
      await server.close();
      await drop();
    },
  };
}

export async function api(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; body?: string | Buffer | FormData | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  checkAgainstOpenApi(method, path, res.status, parsed);
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * Every answer a test gets from a documented operation must be one the OpenAPI document declares for it
 * (src/server/openapi.ts, made from the same zod schemas): a declared status, and a body its schema accepts (an
 * error body for the errors). Paths the document does not know (hostile ones, 404s) are not checked here.
 */
export function checkAgainstOpenApi(method: string, path: string, status: number, body: unknown): void {
  const op = operationFor(method, path);
  if (!op) return;
  const declared = op.responses[status];
  if (!declared && !(status in commonErrors(op))) {
    throw new Error(`${method} ${path} answered ${status}, which the OpenAPI document does not declare for ${op.operationId}`);
  }
  const schema = declared?.schema ?? (status >= 400 ? ErrorBodySchema : undefined);
  if (!schema || (declared?.mediaType !== undefined && declared.mediaType !== 'application/json')) return;
  const checked = schema.safeParse(body);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new Error(`${method} ${path} → ${status} does not match ${op.operationId}'s schema: ${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
}

export async function newAthlete(base: string, name = 'Ada', profile?: object): Promise<{ id: string; token: string }> {
  const r = await api(base, 'POST', '/api/athletes', { json: { name, ...(profile ? { profile } : {}) } });
  if (r.status !== 201) throw new Error(`create athlete: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; token: string };
}

/** The comparable part of an alert: what must be identical between live and file analysis. */
export const alertKey = (a: { t: number; kind: string; cause: string }) => `${a.t}|${a.kind}|${a.cause}`;

export interface ServedChild {
  proc: ChildProcess;
  port: number;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
}

/**
 * Starts the built CLI (`node bin/crampguard.js serve`) in a child process, as in production, and resolves with
 * the port from its "listening" log line. `env` adds or overrides variables (e.g. DATABASE_URL).
 */
export function serveChild(dataDir: string | undefined, port: number, env: Record<string, string> = {}): Promise<ServedChild> {
  const proc = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'crampguard.js'), 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...(dataDir !== undefined ? { DATA_DIR: dataDir } : {}),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    // 30 s: a loaded CI machine starts node, the worker pool and the store slowly.
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30_000);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening') {
        clearTimeout(timer);
        resolve({ proc, port: entry.port as number, logs });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${stderr}`));
    });
  });
}

/** SIGKILL (no shutdown code runs); resolves once the process is gone. */
export function killChild(child: ServedChild): Promise<void> {
  return new Promise((resolve) => {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return resolve();
    child.proc.once('exit', () => resolve());
    child.proc.kill('SIGKILL');
  });
}
