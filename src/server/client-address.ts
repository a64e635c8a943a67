/**
 * Who the client is when proxies stand in between: the one reading of `TRUST_PROXY` for every per-address
 * budget. Express compiles the setting (`app.get('trust proxy fn')`, so `req.ip` on the HTTP side follows
 * it); the socket handshake and the websocket upgrade walk `X-Forwarded-For` with that same compiled rule.
 * @module
 */
import express from 'express';

/** express's compiled `trust proxy`: whether the hop `addr`, `i` hops from the server, is a trusted proxy. */
export type TrustProxy = (addr: string, i: number) => boolean;

/** Compiles a `TRUST_PROXY` value (false, true, a hop count, or a list of addresses and subnets) as express does. */
export function compileTrustProxy(setting: boolean | number | string): TrustProxy {
  const app = express();
  app.set('trust proxy', setting);
  return app.get('trust proxy fn') as TrustProxy;
}

/**
 * The client's address: the TCP peer, or, while the peer and each hop before it are trusted proxies, the
 * address each forwarded for (right to left in `X-Forwarded-For`), as express's `req.ip`.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trust: TrustProxy): string {
  let addr = peer || 'unknown';
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  if (!header) return addr;
  const hops = header.split(',').map((h) => h.trim()).filter(Boolean).reverse();
  for (let i = 0; i < hops.length && trust(addr, i); i++) addr = hops[i]!;
  return addr;
}
