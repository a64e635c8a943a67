/**
 * Bearer-token authentication for the REST API and the socket handshake. Tokens are random and stored hashed
 * by the store (`createAthlete` / `authenticate`); here we only read them from the request, never from URLs.
 * @module
 */
import type { NextFunction, Request, Response } from 'express';
import type { Athlete, Store } from '../store/types.js';
import { ApiError } from './errors.js';

/** The bearer token of an `Authorization` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S{8,512})\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** Express middleware: sets `res.locals.athlete` or answers 401. */
export function requireAthlete(store: Store) {
  return async function requireAthlete(req: Request, res: Response, next: NextFunction): Promise<void> {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer TOKEN');
    const athlete = await store.authenticate(token);
    if (!athlete) throw new ApiError(401, 'BAD_TOKEN', 'unknown token');
    res.locals.athlete = athlete;
    next();
  };
}

/** The athlete `requireAthlete` authenticated. */
export function athleteOf(res: Response): Athlete {
  const athlete = res.locals.athlete as Athlete | undefined;
  if (!athlete) throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer TOKEN');
  return athlete;
}
