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
  /** Seconds until one request is allowed again (0 when `ok`). */
  retryAfterS: number;
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

  take(key: string, now = performance.now()): TakeResult {
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
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    return {
      ok,
      remaining: Math.floor(b.tokens),
      retryAfterS: ok ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000)),
      resetS: Math.ceil((this.capacity - b.tokens) / this.perMs / 1000),
    };
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
    let r: TakeResult = { ok: true, remaining: Number.POSITIVE_INFINITY, retryAfterS: 0, resetS: 0 };
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
