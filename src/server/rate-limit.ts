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

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill, ms. */
  at: number;
}

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
    const b = this.refill(key, now);
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
    const tokens = b ? Math.min(this.capacity, b.tokens + (now - b.at) * this.perMs) : this.capacity;
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

  private refill(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.capacity, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
      // Re-insert: Map order is then least recently used first.
      this.buckets.delete(key);
    } else {
      b = { tokens: this.capacity, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    return b;
  }

  /** Forgets a key (a closed connection): its next use starts with a full bucket. */
  delete(key: string): void {
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
      r = byAddress.take(`a:${req.socket.remoteAddress ?? 'unknown'}`, now);
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
}

/** A refused handshake: what the watch is told. */
export interface HandshakeRefusal {
  message: string;
  retryAfterMs: number;
  retryAfterS: number;
}

/**
 * Budgets for socket handshakes per client address, checked before a token is hashed or looked up:
 * - every handshake takes one from `perAddressPerMin`;
 * - a failed one (no token, unknown token) also takes one from `authFailuresPerAddressPerMin`, and while that
 *   budget is spent every handshake from the address is refused (a good token waits like everyone behind the
 *   address; the budget refills continuously, so nobody is locked out for longer than `retryAfterMs`);
 * - a refusal is a socket.io `connect_error` with `data: {code: 'RATE_LIMITED', retryAfterMs}`. An address that
 *   goes on regardless (more than `REFUSALS_PER_MIN` such refusals a minute) is then turned away at the HTTP
 *   upgrade, before a websocket, an engine.io socket or a socket.io client exists for it: `429` with
 *   `Retry-After` (see {@link guardUpgrades}). Those cost the event loop a fraction of a full handshake.
 *
 * The address is the TCP peer's, as for the HTTP limits (`trust proxy` is off): behind a proxy, every watch
 * shares the proxy's budgets. Per process, like the HTTP limits.
 */
export class HandshakeLimiter {
  /** Coded refusals an address gets a minute before it is refused at the HTTP upgrade instead. */
  static readonly REFUSALS_PER_MIN = 30;
  private readonly all: TokenBuckets | null;
  private readonly failures: TokenBuckets | null;
  private readonly refusals = new TokenBuckets(HandshakeLimiter.REFUSALS_PER_MIN);

  constructor(settings: HandshakeLimitSettings) {
    this.all = settings.perAddressPerMin > 0 ? new TokenBuckets(settings.perAddressPerMin) : null;
    this.failures = settings.authFailuresPerAddressPerMin > 0 ? new TokenBuckets(settings.authFailuresPerAddressPerMin) : null;
  }

  get enabled(): boolean {
    return this.all !== null || this.failures !== null;
  }

  /** At the socket.io handshake: null to go on (then call `failed` if the token is refused), or the refusal. */
  admit(address: string, now = performance.now()): HandshakeRefusal | null {
    const all = this.all?.take(address, now);
    if (all && !all.ok) {
      return { message: `too many connections from this address: retry in ${all.retryAfterS} s`, retryAfterMs: all.retryAfterMs, retryAfterS: all.retryAfterS };
    }
    return this.failureRefusal(address, now);
  }

  /** A handshake from `address` failed (no token, unknown token). */
  failed(address: string): void {
    this.failures?.take(address);
  }

  /**
   * At the HTTP upgrade, before socket.io: null to let the handshake go on, or the refusal when the address is
   * over a budget and has used up its coded refusals (it does not wait as told). A handshake let through while
   * the address is over a budget uses one coded refusal (socket.io will refuse it with a code).
   */
  shunned(address: string, now = performance.now()): HandshakeRefusal | null {
    const all = this.all?.peek(address, now);
    const refusal =
      all && !all.ok
        ? { message: 'too many connections from this address', retryAfterMs: all.retryAfterMs, retryAfterS: all.retryAfterS }
        : this.failureRefusal(address, now);
    if (!refusal || this.refusals.take(address, now).ok) return null;
    return refusal;
  }

  private failureRefusal(address: string, now: number): HandshakeRefusal | null {
    const f = this.failures?.peek(address, now);
    if (!f || f.ok) return null;
    return { message: `too many failed handshakes from this address: retry in ${f.retryAfterS} s`, retryAfterMs: f.retryAfterMs, retryAfterS: f.retryAfterS };
  }
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Puts `limiter` in front of the server's websocket upgrades (socket.io's listener included): an address it
 * shuns gets `429 Too Many Requests` with `Retry-After` and `{error:{code:'RATE_LIMITED'}}`, and the socket is
 * closed before socket.io sees the request. Call after socket.io has attached to `http`.
 */
export function guardUpgrades(http: HttpServer, limiter: HandshakeLimiter): void {
  const listeners = http.listeners('upgrade') as UpgradeListener[];
  http.removeAllListeners('upgrade');
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = limiter.shunned(req.socket.remoteAddress ?? 'unknown');
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
