// Several `crampguard serve` processes on one PostgreSQL schema and one Redis key prefix, as in production:
// the built CLI in child processes on 127.0.0.1, each on a free port read from its "listening" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createClient } from 'redis';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface ServeProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
}

/** A fresh deployment namespace: a PostgreSQL schema and a Redis prefix no other run uses. */
export function clusterNames(tag: string): { schema: string; redisPrefix: string } {
  const unique = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  return { schema: `t_${tag}_${unique}`, redisPrefix: `cg-${tag}-${unique}` };
}

export function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'crampguard.js'), 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
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
        const port = entry.port as number;
        resolve({ proc, port, url: `http://127.0.0.1:${port}`, logs });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}): ${stderr}`));
    });
  });
}

function exited(p: ServeProcess): boolean {
  return p.proc.exitCode !== null || p.proc.signalCode !== null;
}

/** SIGKILL: no shutdown code runs, its leases are left to lapse. */
export function killHard(p: ServeProcess): Promise<void> {
  return new Promise((resolve) => {
    if (exited(p)) return resolve();
    p.proc.once('exit', () => resolve());
    p.proc.kill('SIGKILL');
  });
}

/** SIGTERM (graceful: checkpoints, releases leases), SIGKILL after 10 s. */
export function stopGracefully(p: ServeProcess): Promise<void> {
  return new Promise((resolve) => {
    if (exited(p)) return resolve();
    const force = setTimeout(() => p.proc.kill('SIGKILL'), 10_000);
    p.proc.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    p.proc.kill('SIGTERM');
  });
}

/** Drops the schema and every Redis key under the prefix. */
export async function dropCluster(databaseUrl: string, redisUrl: string, names: { schema: string; redisPrefix: string }): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${names.schema}" CASCADE`);
  await client.end();
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  for await (const keys of redis.scanIterator({ MATCH: `${names.redisPrefix}:*`, COUNT: 500 })) {
    const batch = ([] as string[]).concat(keys as string | string[]);
    if (batch.length) await redis.del(batch);
  }
  await redis.quit();
}
