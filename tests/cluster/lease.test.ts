// Run leases against the machine's Redis: one owner at a time, renewal keeps a lease, only the owner can
// release it, a dead owner's lease lapses after its ttl, and a lease taken by another is reported lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { RunLeases, type LeaseRedis } from '../../src/server/lease.js';
import { clusterNames } from './processes.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) console.log('tests/cluster/lease: skipped: TEST_REDIS_URL is not set (CI sets it via .ci/run)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!REDIS_URL)('run leases in Redis', () => {
  const { redisPrefix: prefix } = clusterNames('lease');
  let redis: ReturnType<typeof createClient>;
  const open: RunLeases[] = [];
  const leases = (ttlMs: number, onLost?: (name: string) => void) => {
    const l = new RunLeases(redis as unknown as LeaseRedis, { prefix, ttlMs, ...(onLost ? { onLost } : {}) });
    open.push(l);
    return l;
  };
  beforeAll(async () => {
    redis = createClient({ url: REDIS_URL! });
    await redis.connect();
  });
  afterAll(async () => {
    await Promise.all(open.map((l) => l.close()));
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*` })) {
      const batch = ([] as string[]).concat(keys as string | string[]);
      if (batch.length) await redis.del(batch);
    }
    await redis.quit();
  });

  it('one owner at a time; the other is told how long to wait; release by the owner frees it', async () => {
    const a = leases(5000);
    const b = leases(5000);
    expect(await a.acquire('run-1')).toEqual({ ok: true });
    expect(await a.acquire('run-1')).toEqual({ ok: true }); // the owner confirming its lease
    const refused = await b.acquire('run-1');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryInMs).toBeGreaterThan(3000);
    await b.release('run-1'); // not b's: must not free it
    expect((await b.acquire('run-1')).ok).toBe(false);
    await a.release('run-1');
    expect(await b.acquire('run-1')).toEqual({ ok: true });
    expect(await redis.get(`${prefix}:lease:run-1`)).toBe(b.owner);
  });

  it('renewal keeps a lease past its ttl; a dead owner (no renewal) loses it after the ttl', async () => {
    const live = leases(600);
    await live.acquire('run-2');
    // A dead process: its lease written as it would have, never renewed.
    await redis.set(`${prefix}:lease:run-3`, 'dead-process', { PX: 600 });
    const other = leases(600);
    expect((await other.acquire('run-2')).ok).toBe(false);
    expect((await other.acquire('run-3')).ok).toBe(false);
    await sleep(1200);
    expect((await other.acquire('run-2')).ok).toBe(false);
    expect(await other.acquire('run-3')).toEqual({ ok: true });
    expect(live.holds('run-2')).toBe(true);
  });

  it('a lease taken by another process is reported lost and no longer renewed', async () => {
    const lost: string[] = [];
    const a = leases(600, (name) => lost.push(name));
    await a.acquire('run-4');
    await redis.set(`${prefix}:lease:run-4`, 'usurper', { PX: 5000 });
    await sleep(500);
    expect(lost).toEqual(['run-4']);
    expect(a.holds('run-4')).toBe(false);
    expect(await redis.get(`${prefix}:lease:run-4`)).toBe('usurper');
  });

  it('a lease that lapsed while nobody took it (a stalled owner) is taken back by the renewal', async () => {
    const lost: string[] = [];
    const a = leases(600, (name) => lost.push(name));
    await a.acquire('run-5');
    await redis.del(`${prefix}:lease:run-5`);
    await sleep(500);
    expect(lost).toEqual([]);
    expect(await redis.get(`${prefix}:lease:run-5`)).toBe(a.owner);
  });
});
