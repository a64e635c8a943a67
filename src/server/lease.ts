/**
 * Run leases in Redis: with several server processes, one owner per live run, so two processes never run the
 * same run's engine. `SET key owner NX PX ttl` takes a lease; the owner renews every `ttl / 3`; renewal and
 * release compare the owner first (Lua), so a process that lost its lease can never extend or delete the next
 * owner's. A process killed with -9 stops renewing and its leases lapse after `ttl`.
 *
 * The store's (run, seq) uniqueness stays the last line of defence: a session that finds a seq it took as new
 * already stored drops itself (src/live/write-queue.ts). The lease keeps that from being the normal path.
 * @module
 */
import { randomBytes } from 'node:crypto';

/** The few Redis commands used (node-redis v4+ client surface). */
export interface LeaseRedis {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<string | null>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  pTTL(key: string): Promise<number>;
}

/**
 * Extends the key's expiry while it holds our owner id (1); takes it again when it lapsed and nobody took it (2:
 * a stalled event loop missed a renewal, but no other process ran the engine meanwhile); 0 when another owns it.
 */
const RENEW_IF_OWNER = `local v = redis.call('get', KEYS[1])
if v == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not v then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`;
/** Deletes the key only while it still holds our owner id. */
const DELETE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export type AcquireResult = { ok: true } | { ok: false; retryInMs: number };

export interface RunLeasesOptions {
  /** Key prefix; a deployment (or a test run) gets its own. */
  prefix: string;
  /** Lease lifetime, ms: how long a dead owner blocks its runs. @default 6000 */
  ttlMs?: number;
  /** Called when a held lease could not be renewed in time or was taken: the caller drops that run's engine. */
  onLost?: (name: string, reason: string) => void;
  /** Renewal failures (Redis errors) for the log. */
  onError?: (err: unknown) => void;
}

/** The leases one process holds. Names are opaque strings (the caller builds them from athlete and run ids). */
export class RunLeases {
  /** This process's owner id: random, so a restarted process on the same host never passes for its predecessor. */
  readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  readonly ttlMs: number;
  /** Held leases → when Redis last confirmed them (ms since epoch). */
  private readonly held = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;

  constructor(
    private readonly redis: LeaseRedis,
    private readonly options: RunLeasesOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 6000;
    this.timer = setInterval(() => void this.renewAll(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  private key(name: string): string {
    return `${this.options.prefix}:lease:${name}`;
  }

  get count(): number {
    return this.held.size;
  }

  holds(name: string): boolean {
    return this.held.has(name);
  }

  /** Takes the lease, or confirms we still hold it. Refused while another live owner holds it. */
  async acquire(name: string): Promise<AcquireResult> {
    const key = this.key(name);
    if (this.held.has(name)) {
      const renewed = await this.redis.eval(RENEW_IF_OWNER, { keys: [key], arguments: [this.owner, String(this.ttlMs)] });
      if (Number(renewed) >= 1) {
        this.held.set(name, Date.now());
        return { ok: true };
      }
      this.held.delete(name);
    }
    const confirmedAt = Date.now();
    const set = await this.redis.set(key, this.owner, { NX: true, PX: this.ttlMs });
    if (set === 'OK') {
      this.held.set(name, confirmedAt);
      return { ok: true };
    }
    const left = await this.redis.pTTL(key);
    return { ok: false, retryInMs: left > 0 ? left : 0 };
  }

  /** Lets the lease go (compare-and-delete); harmless when not held. */
  async release(name: string): Promise<void> {
    if (!this.held.delete(name)) return;
    await this.redis.eval(DELETE_IF_OWNER, { keys: [this.key(name)], arguments: [this.owner] });
  }

  /** Renews every held lease; a lease taken by someone else, or unconfirmed for a whole ttl, is reported lost. */
  private async renewAll(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      const names = [...this.held.keys()];
      const results = await Promise.allSettled(
        names.map((n) => this.redis.eval(RENEW_IF_OWNER, { keys: [this.key(n)], arguments: [this.owner, String(this.ttlMs)] })),
      );
      const now = Date.now();
      results.forEach((r, i) => {
        const name = names[i]!;
        const since = this.held.get(name);
        if (since === undefined) return; // released meanwhile
        if (r.status === 'fulfilled') {
          if (Number(r.value) >= 1) this.held.set(name, now);
          else this.lose(name, 'another process holds it');
        } else {
          this.options.onError?.(r.reason);
          // Redis did not answer: after a whole ttl the lease may have lapsed and been taken elsewhere.
          if (now - since >= this.ttlMs) this.lose(name, 'Redis did not confirm it for a whole ttl');
        }
      });
    } finally {
      this.renewing = false;
    }
  }

  private lose(name: string, reason: string): void {
    this.held.delete(name);
    this.options.onLost?.(name, reason);
  }

  /** Releases every lease and stops renewing (graceful shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.held.keys()].map((n) => this.release(n)));
  }
}
