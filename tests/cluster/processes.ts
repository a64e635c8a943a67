// Several `crampguard serve` processes on one PostgreSQL schema and one Redis key prefix, as in production:
// the built CLI in child processes on 127.0.0.1, each on a free port read from its "listening" log line.
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { killChild, serveChild, type ServedChild } from '../server/helpers.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface ServeProcess extends ServedChild {
  url: string;
}

/** A fresh deployment namespace: a PostgreSQL schema and a Redis prefix no other run uses. */
export function clusterNames(tag: string): { schema: string; redisPrefix: string } {
  const unique = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  return { schema: `t_${tag}_${unique}`, redisPrefix: `cg-${tag}-${unique}` };
}

/** A `crampguard serve` child on a free port; its store and Redis come from `env`. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const child = await serveChild(undefined, 0, env);
  return { ...child, url: `http://127.0.0.1:${child.port}` };
}

function exited(p: ServeProcess): boolean {
  return p.proc.exitCode !== null || p.proc.signalCode !== null;
}

/** SIGKILL: no shutdown code runs, its leases are left to lapse. */
export const killHard = (p: ServeProcess): Promise<void> => killChild(p);

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
