/**
 * The service's configuration: the only reader of `process.env` in the server. Parsed once at start with zod
 * into a frozen object that is passed down explicitly; a bad value stops the start with one clear line.
 * @module
 */
import { z } from 'zod';

export interface AppConfig {
  /** TCP port; 0 picks a free one (tests). @default 8080 */
  readonly port: number;
  /** Interface to bind. @default '0.0.0.0' */
  readonly host: string;
  /** Where the embedded SQLite store keeps its files. @default './data' */
  readonly dataDir: string;
  /** PostgreSQL URL; when set the store uses PostgreSQL instead of SQLite. */
  readonly databaseUrl: string | undefined;
  /** Redis URL for the socket.io streams adapter (several processes). Unset = one process, in-memory adapter. */
  readonly redisUrl: string | undefined;
  /** PostgreSQL schema to create and use (one database, several deployments or test runs). @default search_path */
  readonly databaseSchema: string | undefined;
  /** Prefix of every Redis key and stream this deployment uses. @default 'crampguard' */
  readonly redisPrefix: string;
  /** With Redis: lifetime of a run's lease, ms (how long a killed process blocks its runs). @default 6000 */
  readonly runLeaseMs: number;
  /**
   * With Redis: entries kept in the adapter's stream. Every push (samples to dashboards, risk, alerts) is one
   * entry; a process reading further behind than this loses pushes, and a recovering socket older than the
   * oldest entry is not recovered. @default 100000
   */
  readonly redisStreamMaxLen: number;
  /** Largest FIT upload accepted, bytes. @default 32 MB */
  readonly uploadLimitBytes: number;
  /** Whether POST /api/athletes accepts new athletes. @default true */
  readonly registrationOpen: boolean;
  /** pino level. @default 'info' */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Built dashboard files served at `/` when the folder exists. @default the package's dist/dashboard */
  readonly dashboardDir: string | undefined;
  /**
   * Map tiles behind the run page's route map: an http(s) URL template with {z}, {x} and {y} (and optionally
   * {s}), served to the page by GET /api/config; '' = no tiles (the track is drawn alone). The page's CSP allows
   * images from its origin. @default OpenStreetMap's https://tile.openstreetmap.org/{z}/{x}/{y}.png
   */
  readonly mapTileUrl: string;
  /** FIT decoding worker threads. @default 1 */
  readonly fitWorkers: number;
  /** HTTP API requests per minute per client address (token bucket, this process); 0 = no limit. @default 6000 */
  readonly rateLimitPerAddressPerMin: number;
  /** HTTP API requests per minute per bearer token (token bucket, this process); 0 = no limit. @default 3000 */
  readonly rateLimitPerTokenPerMin: number;
  /**
   * Watch socket: samples a second per connection and per live run (token buckets of a quarter second's worth,
   * at least one full batch of 600), counted before a batch is parsed; over it a batch is refused RATE_LIMITED with
   * `retryAfterMs` and its seq stays free. A watch sends ~1 a second; replays at high speed are far below the
   * default. 0 = no limit. @default 5000
   */
  readonly socketSamplesPerS: number;
  /** Watch socket handshakes a minute per client address (token bucket, this process); 0 = no limit. @default 6000 */
  readonly socketHandshakesPerAddressPerMin: number;
  /**
   * Failed watch socket handshakes (no token, unknown token) a minute per client address; while the budget is
   * spent, every handshake from the address is refused RATE_LIMITED before its token is hashed or looked up.
   * 0 = no limit. @default 60
   */
  readonly socketAuthFailuresPerAddressPerMin: number;
  /** Longest an upload may take to decode and analyse before it is stopped (413 FIT_TOO_COMPLEX), ms. @default 30 s */
  readonly fitTimeLimitMs: number;
  /** Heap limit of each FIT worker, MB. @default 1024 */
  readonly fitMemoryLimitMb: number;
  /** Niceness added to FIT worker threads (Linux: per thread), so decoding yields the CPU to live prompts. */
  readonly fitWorkerNice: number;
  /**
   * Live samples one run may hold in memory, stepped through its engine but not yet stored (the database is
   * unavailable or slow); beyond it new batches are refused (STORE_UNAVAILABLE during an outage, else
   * RATE_LIMITED) and the watch keeps them. @default 3600 (an hour at 1 Hz, ~290 KB)
   */
  readonly liveBacklogRunSamples: number;
  /** The same over all live runs of this process (~80 bytes each). @default 1 000 000 (~80 MB) */
  readonly liveBacklogSamples: number;
  /**
   * Which peers are proxies whose `X-Forwarded-For` names the client (express's `trust proxy`): false (the TCP
   * peer is the client), true (the left-most forwarded address), a hop count, or a comma-separated list of
   * addresses, subnets and the names loopback, linklocal, uniquelocal. Used for every per-address budget (HTTP
   * and the watch socket) and the logs. @default false
   */
  readonly trustProxy: boolean | number | string;
  /** Time a client has to send a request's headers, ms (slowloris). @default 10 s */
  readonly headersTimeoutMs: number;
  /** Time a client has to send a whole request, body included, ms (32 MB at ~300 KB/s). @default 120 s */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long, ms. @default 5 s */
  readonly keepAliveTimeoutMs: number;
  /** Open TCP connections per client address (HTTP and sockets); beyond it a new one is closed at once. 0 = no cap. @default 256 */
  readonly connectionsPerAddress: number;
  /** Uploads admitted at once (receiving, waiting for the decoder, decoding); past it 429 UPLOAD_QUEUE_FULL. @default 16 */
  readonly uploadQueueMax: number;
  /** Uploads one athlete may have admitted at once; past it 429 UPLOAD_QUEUE_FULL. @default 2 */
  readonly uploadsPerAthlete: number;
  /** Most samples (records) one upload may store; past it 413 RUN_TOO_LARGE. @default 500 000 (5.8 days at 1 Hz) */
  readonly uploadMaxSamples: number;
}

export const DEFAULT_MAP_TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

/** The origin a tile URL template loads from (for the CSP), or null for none. */
export function tileOrigin(mapTileUrl: string): string | null {
  if (!mapTileUrl) return null;
  const m = /^(https?:\/\/[^/]+)/.exec(mapTileUrl.replace('{s}', '*'));
  return m ? m[1]! : null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

const urlWithScheme = (schemes: string[]) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    }, `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`);

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql']).optional(),
  REDIS_URL: urlWithScheme(['redis', 'rediss']).optional(),
  DATABASE_SCHEMA: z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .optional(),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -')
    .default('crampguard'),
  RUN_LEASE_MS: z.coerce.number().int().min(1000).max(120_000).default(6000),
  REDIS_STREAM_MAXLEN: z.coerce.number().int().min(1000).max(10_000_000).default(100_000),
  UPLOAD_LIMIT_MB: z.coerce.number().positive().max(1024).default(32),
  REGISTRATION: z.enum(['open', 'closed']).default('open'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DASHBOARD_DIR: z.string().trim().min(1).optional(),
  MAP_TILE_URL: z
    .string()
    .trim()
    .refine((v) => v === '' || (/^https?:\/\/[^\s/]+\/\S*$/.test(v) && ['{z}', '{x}', '{y}'].every((p) => v.includes(p))), 'must be empty or an http(s) URL with {z}, {x} and {y}')
    .default(DEFAULT_MAP_TILE_URL),
  FIT_WORKERS: z.coerce.number().int().min(1).max(16).default(1),
  RATE_LIMIT_ADDRESS_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(6000),
  RATE_LIMIT_TOKEN_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(3000),
  SOCKET_SAMPLES_PER_S: z.coerce.number().int().min(0).max(10_000_000).default(5000),
  SOCKET_HANDSHAKES_ADDRESS_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(6000),
  SOCKET_AUTH_FAILURES_ADDRESS_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(60),
  FIT_TIME_LIMIT_S: z.coerce.number().positive().max(3600).default(30),
  FIT_MEMORY_LIMIT_MB: z.coerce.number().int().min(64).max(65_536).default(1024),
  FIT_WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),
  LIVE_BACKLOG_RUN_SAMPLES: z.coerce.number().int().min(1).max(1_000_000).default(3600),
  LIVE_BACKLOG_SAMPLES: z.coerce.number().int().min(1).max(100_000_000).default(1_000_000),
  TRUST_PROXY: z
    .string()
    .trim()
    .regex(/^(true|false|\d{1,2}|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, 'must be true, false, a hop count, or a comma-separated list of addresses, subnets, loopback, linklocal, uniquelocal')
    .default('false'),
  HTTP_HEADERS_TIMEOUT_S: z.coerce.number().positive().max(600).default(10),
  HTTP_REQUEST_TIMEOUT_S: z.coerce.number().positive().max(3600).default(120),
  HTTP_KEEPALIVE_TIMEOUT_S: z.coerce.number().positive().max(600).default(5),
  CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(256),
  UPLOAD_QUEUE_MAX: z.coerce.number().int().min(1).max(10_000).default(16),
  UPLOADS_PER_ATHLETE: z.coerce.number().int().min(1).max(10_000).default(2),
  UPLOAD_MAX_SAMPLES: z.coerce.number().int().min(1000).max(100_000_000).default(500_000),
});

/** TRUST_PROXY as express takes it: a boolean, a hop count, or the list as written. */
function trustProxyValue(v: string): boolean | number | string {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/** The variables read, for `serve --help`. */
export const ENV_HELP = `environment:
  PORT             port to listen on (default 8080; 0 = any free port)
  HOST             interface to bind (default 0.0.0.0)
  DATA_DIR         folder of the embedded SQLite store (default ./data)
  DATABASE_URL     postgres://… to use PostgreSQL instead of SQLite
  REDIS_URL        redis://… to share live sessions between processes
  DATABASE_SCHEMA  PostgreSQL schema to create and use (default: the server's search_path)
  REDIS_PREFIX     prefix of the Redis keys and streams of this deployment (default crampguard)
  RUN_LEASE_MS     with REDIS_URL: a live run's lease lifetime, ms (default 6000; renewed every third)
  REDIS_STREAM_MAXLEN  with REDIS_URL: entries kept in the socket.io stream (default 100000)
  UPLOAD_LIMIT_MB  largest FIT upload (default 32)
  REGISTRATION     open | closed: whether POST /api/athletes creates athletes (default open)
  LOG_LEVEL        fatal | error | warn | info | debug | trace | silent (default info)
  DASHBOARD_DIR    built dashboard files (default: the package's dist/dashboard)
  MAP_TILE_URL     route-map tiles, a URL with {z} {x} {y} (default OpenStreetMap's; empty = the track without tiles)
  FIT_WORKERS      FIT decoding worker threads (default 1)
  RATE_LIMIT_ADDRESS_PER_MIN  API requests a minute per client address (default 6000; 0 = off)
  RATE_LIMIT_TOKEN_PER_MIN    API requests a minute per bearer token (default 3000; 0 = off)
  SOCKET_SAMPLES_PER_S        watch samples a second per connection and per live run (default 5000; 0 = off)
  SOCKET_HANDSHAKES_ADDRESS_PER_MIN     watch socket handshakes a minute per client address (default 6000; 0 = off)
  SOCKET_AUTH_FAILURES_ADDRESS_PER_MIN  failed watch handshakes (bad or no token) a minute per address (default 60; 0 = off)
  FIT_TIME_LIMIT_S            longest decode+analysis of one upload before 413 FIT_TOO_COMPLEX (default 30)
  FIT_MEMORY_LIMIT_MB         heap limit of each FIT worker (default 1024)
  FIT_WORKER_NICE             scheduling niceness added to FIT worker threads, so live prompts win the CPU (default 10; 0 = same as the server)
  LIVE_BACKLOG_RUN_SAMPLES    live samples one run may hold unstored while the database is unavailable (default 3600)
  LIVE_BACKLOG_SAMPLES        the same over all live runs of the process (default 1000000, ~80 MB)
  TRUST_PROXY                 false | true | hop count | addresses/subnets: proxies whose X-Forwarded-For names the client (default false)
  HTTP_HEADERS_TIMEOUT_S      time a client has to send its request headers (default 10)
  HTTP_REQUEST_TIMEOUT_S      time a client has to send a whole request, body included (default 120)
  HTTP_KEEPALIVE_TIMEOUT_S    idle keep-alive connections are closed after this (default 5)
  CONNECTIONS_PER_ADDRESS     open connections per client address; more are closed at once (default 256; 0 = off)
  UPLOAD_QUEUE_MAX            uploads admitted at once, queued or decoding; more get 429 UPLOAD_QUEUE_FULL (default 16)
  UPLOADS_PER_ATHLETE         uploads one athlete may have admitted at once (default 2)
  UPLOAD_MAX_SAMPLES          most records one upload may store; more get 413 RUN_TOO_LARGE (default 500000)
`;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings count as unset: `DATABASE_URL= npm start` should mean "no database URL".
  const present: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') present[key] = value;
  }
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new ConfigError(`bad configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    redisPrefix: e.REDIS_PREFIX,
    runLeaseMs: e.RUN_LEASE_MS,
    redisStreamMaxLen: e.REDIS_STREAM_MAXLEN,
    uploadLimitBytes: Math.round(e.UPLOAD_LIMIT_MB * 1024 * 1024),
    registrationOpen: e.REGISTRATION === 'open',
    logLevel: e.LOG_LEVEL,
    dashboardDir: e.DASHBOARD_DIR,
    mapTileUrl: e.MAP_TILE_URL,
    fitWorkers: e.FIT_WORKERS,
    rateLimitPerAddressPerMin: e.RATE_LIMIT_ADDRESS_PER_MIN,
    rateLimitPerTokenPerMin: e.RATE_LIMIT_TOKEN_PER_MIN,
    socketSamplesPerS: e.SOCKET_SAMPLES_PER_S,
    socketHandshakesPerAddressPerMin: e.SOCKET_HANDSHAKES_ADDRESS_PER_MIN,
    socketAuthFailuresPerAddressPerMin: e.SOCKET_AUTH_FAILURES_ADDRESS_PER_MIN,
    fitTimeLimitMs: Math.round(e.FIT_TIME_LIMIT_S * 1000),
    fitMemoryLimitMb: e.FIT_MEMORY_LIMIT_MB,
    fitWorkerNice: e.FIT_WORKER_NICE,
    liveBacklogRunSamples: e.LIVE_BACKLOG_RUN_SAMPLES,
    liveBacklogSamples: e.LIVE_BACKLOG_SAMPLES,
    trustProxy: trustProxyValue(e.TRUST_PROXY),
    headersTimeoutMs: Math.round(e.HTTP_HEADERS_TIMEOUT_S * 1000),
    requestTimeoutMs: Math.round(e.HTTP_REQUEST_TIMEOUT_S * 1000),
    keepAliveTimeoutMs: Math.round(e.HTTP_KEEPALIVE_TIMEOUT_S * 1000),
    connectionsPerAddress: e.CONNECTIONS_PER_ADDRESS,
    uploadQueueMax: e.UPLOAD_QUEUE_MAX,
    uploadsPerAthlete: e.UPLOADS_PER_ATHLETE,
    uploadMaxSamples: e.UPLOAD_MAX_SAMPLES,
  });
}
