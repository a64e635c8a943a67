/**
 * Request rate limits for the HTTP API: a token bucket per client address and one per bearer token, in this
 * process's memory. A refused request gets 429 with `Retry-After` and `{error:{code:'RATE_LIMITED'}}`; every
 * limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (IETF httpapi
 * ratelimit-headers draft).
 *
 * Per process: with several processes each keeps its own buckets, so the effective limit is N× the setting.
 * Sharing them would move `take` to Redis (one INCR-with-expiry or a small Lua bucket per key).
 * @module
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bearerToken } from './auth.js';
import { clientAddress, type TrustProxy } from './client-address.js';

/**
 * One key's bucket. Whoever uses a key message after message (a watch's budgets) keeps its bucket and skips the map
 * lookup: see {@link TokenBuckets.bucket}.
 */
export interface Bucket {
  readonly key: string;
  tokens: number;
  /** performance.now() of the last refill, ms. */
  at: number;
  /** When the bucket last moved to the recent end of the map, ms. */
  movedAt: number;
  /** Evicted or deleted: no longer the key's bucket, so a holder asks for the key's bucket again. */
  dropped: boolean;
}

/**
 * A bucket moves to the recent end of the map at most this often: eviction order is least recently used to ±10 s.
 * (A move is a delete and an insert; at 1 s a watch's budgets moved on nearly every message.)
 */
const REORDER_MS = 10_000;

export interface TakeResult {
  ok: boolean;
  /** Whole requests left in the bucket after this one. */
  remaining: number;
  /** Seconds until this request would be allowed (0 when `ok`). */
  retryAfterS: number;
  /** The same in milliseconds (0 when `ok`): for budgets that refill within a second. */
  retryAfterMs: number;
  /** Seconds until the bucket is full again. */
  resetS: number;
}

/**
 * Token buckets by key: `capacity` requests at once, refilled at `capacity` per `windowS`. At most `maxKeys`
 * buckets are kept; beyond that the least recently used are dropped (a dropped bucket starts full, which only
 * ever errs towards letting a request through).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly capacity: number,
    readonly windowS = 60,
    private readonly maxKeys = 50_000,
  ) {
    this.perMs = capacity / (windowS * 1000);
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes `cost` tokens (a request: 1; a batch of samples: its size) when the bucket holds them; a refusal takes
   * nothing. A cost above the capacity is never allowed.
   */
  take(key: string, now = performance.now(), cost = 1): TakeResult {
    const b = this.refill(this.bucket(key, now), now);
    const ok = b.tokens >= cost;
    if (ok) b.tokens -= cost;
    const waitMs = ok ? 0 : (cost - b.tokens) / this.perMs;
    return {
      ok,
      remaining: Math.floor(b.tokens),
      retryAfterS: ok ? 0 : Math.max(1, Math.ceil(waitMs / 1000)),
      retryAfterMs: Math.ceil(waitMs),
      resetS: Math.ceil((this.capacity - b.tokens) / this.perMs / 1000),
    };
  }

  /** Whether `cost` tokens are there, without taking them (what `take` would answer). */
  peek(key: string, now = performance.now(), cost = 1): TakeResult {
    const b = this.buckets.get(key);
    const tokens = b ? this.tokensOf(b, now) : this.capacity;
    const ok = tokens >= cost;
    const waitMs = ok ? 0 : (cost - tokens) / this.perMs;
    return {
      ok,
      remaining: Math.floor(tokens),
      retryAfterS: ok ? 0 : Math.max(1, Math.ceil(waitMs / 1000)),
      retryAfterMs: Math.ceil(waitMs),
      resetS: Math.ceil((this.capacity - tokens) / this.perMs / 1000),
    };
  }

  /**
   * The key's bucket (created full when it has none), for {@link waitMs} and {@link takeNow}. A holder passes the
   * bucket it kept from its last use as `held`: while that is still the key's, it comes back without a lookup.
   */
  bucket(key: string, now = performance.now(), held?: Bucket): Bucket {
    if (held !== undefined && !held.dropped) return held;
    let b = this.buckets.get(key);
    if (b) return b;
    b = { key, tokens: this.capacity, at: now, movedAt: now, dropped: false };
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value!;
      this.buckets.get(oldest)!.dropped = true;
      this.buckets.delete(oldest);
    }
    this.buckets.set(key, b);
    return b;
  }

  /**
   * Milliseconds until `cost` tokens are in `b`, 0 when they are now: `peek` for the hot path (a watch's every
   * message), which allocates nothing. At least 1 when they are not.
   */
  waitMs(b: Bucket, now: number, cost: number): number {
    const tokens = this.tokensOf(b, now);
    return tokens >= cost ? 0 : Math.max(1, Math.ceil((cost - tokens) / this.perMs));
  }

  /** Takes `cost` tokens that `waitMs` said are in `b` (allocates nothing). */
  takeNow(b: Bucket, now: number, cost: number): void {
    this.refill(b, now).tokens -= cost;
  }

  private tokensOf(b: Bucket, now: number): number {
    return Math.min(this.capacity, b.tokens + (now - b.at) * this.perMs);
  }

  private refill(b: Bucket, now: number): Bucket {
    b.tokens = this.tokensOf(b, now);
    b.at = now;
    // Re-insert: Map order is then least recently used first (to within REORDER_MS).
    if (now - b.movedAt >= REORDER_MS && !b.dropped) {
      b.movedAt = now;
      this.buckets.delete(b.key);
      this.buckets.set(b.key, b);
    }
    return b;
  }

  /** Forgets a key (a closed connection): its next use starts with a full bucket. */
  delete(key: string): void {
    const b = this.buckets.get(key);
    if (!b) return;
    b.dropped = true;
    this.buckets.delete(key);
  }
}

export interface RateLimitSettings {
  /** Requests per minute per client address; 0 = no limit. */
  perAddressPerMin: number;
  /** Requests per minute per bearer token; 0 = no limit. */
  perTokenPerMin: number;
}

/** A short, one-way key for a token: the bucket map never holds a usable secret. */
function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}

/** Express middleware applying both limits (the tighter answer wins). Returns null when both are off. */
export function rateLimiter(settings: RateLimitSettings): RequestHandler | null {
  const byAddress = settings.perAddressPerMin > 0 ? new TokenBuckets(settings.perAddressPerMin) : null;
  const byToken = settings.perTokenPerMin > 0 ? new TokenBuckets(settings.perTokenPerMin) : null;
  if (!byAddress && !byToken) return null;
  return function rateLimit(req: Request, res: Response, next: NextFunction): void {
    const now = performance.now();
    let r: TakeResult = { ok: true, remaining: Number.POSITIVE_INFINITY, retryAfterS: 0, retryAfterMs: 0, resetS: 0 };
    let limit = 0;
    if (byAddress) {
      // req.ip: the client's address as TRUST_PROXY says (the TCP peer's when it is off).
      r = byAddress.take(`a:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`, now);
      limit = byAddress.capacity;
    }
    const token = byToken ? bearerToken(req.get('authorization')) : null;
    if (byToken && token) {
      const t = byToken.take(tokenKey(token), now);
      // Report the tighter of the two: a refusal first, then the fewer requests left.
      if ((!t.ok && r.ok) || (t.ok === r.ok && t.remaining < r.remaining)) {
        r = t;
        limit = byToken.capacity;
      }
    }
    if (limit === 0) return next();
    res.set('RateLimit-Limit', String(limit));
    res.set('RateLimit-Remaining', String(r.remaining));
    res.set('RateLimit-Reset', String(r.resetS));
    if (r.ok) return next();
    res.set('Retry-After', String(r.retryAfterS));
    res.status(429).json({ error: { code: 'RATE_LIMITED', message: `too many requests: retry in ${r.retryAfterS} s` } });
  };
}

export interface HandshakeLimitSettings {
  /** Socket handshakes a minute per client address; 0 = no limit. */
  perAddressPerMin: number;
  /** Failed socket handshakes (no or unknown token) a minute per client address; 0 = no limit. */
  authFailuresPerAddressPerMin: number;
  /** Failed handshakes a minute with one presented token (the same bad token again and again). @default 10 */
  authFailuresPerTokenPerMin?: number;
}

/** A refused handshake: what the watch is told. */
export interface HandshakeRefusal {
  message: string;
  retryAfterMs: number;
  retryAfterS: number;
}

/** How long a token (or an address) that authenticated counts as known-good, ms. */
const KNOWN_GOOD_MS = 10 * 60_000;
/** Known-good tokens and addresses remembered (least recently seen forgotten first). */
const KNOWN_GOOD_MAX = 50_000;

/** A bounded map of key → when last seen good, least recently seen first. */
class KnownGood {
  private readonly at = new Map<string, number>();
  add(key: string, now: number): void {
    this.at.delete(key);
    this.at.set(key, now);
    if (this.at.size > KNOWN_GOOD_MAX) this.at.delete(this.at.keys().next().value!);
  }
  has(key: string, now: number): boolean {
    const t = this.at.get(key);
    return t !== undefined && now - t < KNOWN_GOOD_MS;
  }
}

/**
 * Budgets for socket handshakes, checked before a token is looked up where they can be:
 * - every handshake takes one from its address's `perAddressPerMin`; past it the handshake is refused
 *   RATE_LIMITED, except with a token that authenticated recently (a watch behind a busy address gets in);
 * - a presented token that failed `authFailuresPerTokenPerMin` times is refused RATE_LIMITED before its lookup;
 * - a failed handshake (no token, unknown token) takes one from its address's `authFailuresPerAddressPerMin`;
 *   past it a failure is answered RATE_LIMITED with `retryAfterMs` instead of BAD_TOKEN. Failures never shut a
 *   valid token out: behind one address (a NAT, a balancer without TRUST_PROXY) 60 bad handshakes of one client
 *   used to lock every watch there out for the minute;
 * - a refusal is a socket.io `connect_error` with `data: {code: 'RATE_LIMITED', retryAfterMs}`. An address that
 *   goes on regardless (more than `REFUSALS_PER_MIN` such refusals a minute) and has had no good handshake in
 *   the last 10 minutes is then turned away at the HTTP upgrade, before a websocket, an engine.io socket or a
 *   socket.io client exists for it: `429` with `Retry-After` (see {@link guardUpgrades}). An address with good
 *   watches behind it is never refused at the upgrade (the token is not known there).
 *
 * The address is the client's as `TRUST_PROXY` says (src/server/client-address.ts). Per process, like the HTTP
 * limits.
 */
export class HandshakeLimiter {
  /** Coded refusals an address gets a minute before it is refused at the HTTP upgrade instead. */
  static readonly REFUSALS_PER_MIN = 30;
  private readonly all: TokenBuckets | null;
  private readonly failures: TokenBuckets | null;
  private readonly tokenFailures: TokenBuckets | null;
  private readonly refusals = new TokenBuckets(HandshakeLimiter.REFUSALS_PER_MIN);
  private readonly goodTokens = new KnownGood();
  private readonly goodAddresses = new KnownGood();

  constructor(settings: HandshakeLimitSettings) {
    this.all = settings.perAddressPerMin > 0 ? new TokenBuckets(settings.perAddressPerMin) : null;
    this.failures = settings.authFailuresPerAddressPerMin > 0 ? new TokenBuckets(settings.authFailuresPerAddressPerMin) : null;
    const perToken = settings.authFailuresPerTokenPerMin ?? 10;
    this.tokenFailures = perToken > 0 && this.failures ? new TokenBuckets(perToken) : null;
  }

  get enabled(): boolean {
    return this.all !== null || this.failures !== null;
  }

  /**
   * At the socket.io handshake, before the token is looked up: null to go on (then call `failed` or
   * `succeeded`), or the refusal. `token` is the presented token (null: none).
   */
  admit(address: string, token: string | null, now = performance.now()): HandshakeRefusal | null {
    const key = token === null ? null : tokenKey(token);
    if (key !== null && this.tokenFailures) {
      const f = this.tokenFailures.peek(key, now);
      if (!f.ok) return refusal('this token failed too often: retry', f);
    }
    const all = this.all?.take(address, now);
    if (all && !all.ok && !(key !== null && this.goodTokens.has(key, now))) {
      return refusal('too many connections from this address', all);
    }
    return null;
  }

  /**
   * A handshake from `address` failed (no token, unknown token): null to answer with the failure's own code,
   * or a RATE_LIMITED refusal when the address has failed too often (it should wait, not retry at once).
   */
  failed(address: string, token: string | null, now = performance.now()): HandshakeRefusal | null {
    if (token !== null) this.tokenFailures?.take(tokenKey(token), now);
    const f = this.failures?.take(address, now);
    return f && !f.ok ? refusal('too many failed handshakes from this address', f) : null;
  }

  /** A handshake from `address` authenticated with `token`. */
  succeeded(address: string, token: string, now = performance.now()): void {
    this.goodTokens.add(tokenKey(token), now);
    this.goodAddresses.add(address, now);
  }

  /**
   * At the HTTP upgrade, before socket.io: null to let the handshake go on, or the refusal when the address is
   * over a budget, has used up its coded refusals (it does not wait as told), and no good watch has connected
   * from it lately. A handshake let through while the address is over a budget uses one coded refusal.
   */
  shunned(address: string, now = performance.now()): HandshakeRefusal | null {
    const all = this.all?.peek(address, now);
    const failures = this.failures?.peek(address, now);
    const over = all && !all.ok ? all : failures && !failures.ok ? failures : null;
    if (!over || this.goodAddresses.has(address, now) || this.refusals.take(address, now).ok) return null;
    return refusal('too many connections from this address', over);
  }
}

function refusal(what: string, r: TakeResult): HandshakeRefusal {
  return { message: `${what}: retry in ${r.retryAfterS} s`, retryAfterMs: r.retryAfterMs, retryAfterS: r.retryAfterS };
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Puts `limiter` in front of the server's websocket upgrades (socket.io's listener included): an address it
 * shuns gets `429 Too Many Requests` with `Retry-After` and `{error:{code:'RATE_LIMITED'}}`, and the socket is
 * closed before socket.io sees the request. Call after socket.io has attached to `http`.
 */
export function guardUpgrades(http: HttpServer, limiter: HandshakeLimiter, trust: TrustProxy = () => false): void {
  const listeners = http.listeners('upgrade') as UpgradeListener[];
  http.removeAllListeners('upgrade');
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = limiter.shunned(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trust));
    if (refusal) {
      const body = JSON.stringify({ error: { code: 'RATE_LIMITED', message: refusal.message, retryAfterMs: refusal.retryAfterMs } });
      socket.on('error', () => {});
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${refusal.retryAfterS}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    for (const listener of listeners) listener.call(http, req, socket, head);
  });
}
