/**
 * Coded errors for the API and the socket, and the one function that maps any thrown value to a status and
 * `{error:{code,message}}`. Clients never see a stack trace.
 * @module
 */
import { z } from 'zod';
import { IngestError } from '../../ingest/errors.js';
import { StoreError } from '../store/types.js';
import { BAD_STRING } from '../wire/schemas.js';

/** An error meant for the client: a stable code, an HTTP status, one line of text. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** Seconds worth waiting before a retry: sent as `Retry-After`. */
  readonly retryAfterS: number | undefined;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions & { retryAfterS?: number },
  ) {
    super(message, options);
    this.retryAfterS = options?.retryAfterS;
  }
}

export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`);

/** 400 BAD_STRING: a string (at `where`) holds a NUL or an unpaired surrogate, which no store keeps as sent. */
export const badString = (where: string) =>
  new ApiError(400, BAD_STRING, `${where}: strings must not contain NUL characters or unpaired UTF-16 surrogates`);

const INGEST_STATUS: Record<string, number> = {
  FIT_TOO_LARGE: 413,
  XML_TOO_LARGE: 413,
  GZIP_TOO_LARGE: 413,
  FIT_NOT_FIT: 415,
  XML_UNSUPPORTED: 415,
  FIT_EMPTY: 400,
};

const STORE_STATUS: Record<string, number> = {
  STORE_UNAVAILABLE: 503,
  STORE_FULL: 507,
  STORE_BAD_INPUT: 400,
  STORE_CONFLICT: 409,
};

/** One line from the first zod issues: "profile.hrMax: Too big: expected number to be <=240". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export interface ClientError {
  status: number;
  code: string;
  message: string;
  /** True when the server is at fault: log it with the stack. */
  internal: boolean;
  /** Seconds worth waiting before a retry (`Retry-After`), when there is a figure. */
  retryAfterS?: number;
}

/** Maps anything thrown by a handler to what the client sees. */
export function toClientError(err: unknown): ClientError {
  if (err instanceof ApiError) {
    return { status: err.status, code: err.code, message: err.message, internal: false, ...(err.retryAfterS ? { retryAfterS: err.retryAfterS } : {}) };
  }
  if (err instanceof IngestError) {
    return { status: INGEST_STATUS[err.code] ?? 400, code: err.code, message: err.message, internal: false };
  }
  if (err instanceof StoreError) {
    const status = STORE_STATUS[err.code] ?? 500;
    return { status, code: err.code, message: status === 500 ? 'storage failed' : err.message, internal: status >= 500 };
  }
  if (err instanceof z.ZodError) {
    const badString = err.issues.some((i) => i.code === 'custom' && (i.params as { code?: unknown } | undefined)?.code === BAD_STRING);
    return { status: 400, code: badString ? BAD_STRING : 'BAD_REQUEST', message: describeZodError(err), internal: false };
  }
  const e = err as { type?: string; status?: number; code?: string; name?: string } | null;
  // body-parser (express.json / express.raw) errors.
  if (e?.type === 'entity.too.large') {
    return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than the upload limit', internal: false };
  }
  if (e?.type === 'entity.parse.failed') {
    return { status: 400, code: 'BAD_JSON', message: 'request body is not valid JSON', internal: false };
  }
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return { status: 415, code: 'UNSUPPORTED_ENCODING', message: 'unsupported content encoding', internal: false };
  }
  // multer errors.
  if (e?.name === 'MulterError') {
    if (e.code === 'LIMIT_FILE_SIZE') {
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'file is larger than the upload limit', internal: false };
    }
    return { status: 400, code: 'BAD_UPLOAD', message: `bad multipart upload (${e.code ?? 'unknown'})`, internal: false };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, code: 'BAD_REQUEST', message: 'bad request', internal: false };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', internal: true };
}
