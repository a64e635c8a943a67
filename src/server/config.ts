/**
 * The service's configuration: the only reader of `process.env` in the server. Parsed once at start with zod
 * into a frozen object that is passed down explicitly; a bad value stops the start with one clear line. Defaults,
 * allowed values and descriptions are written once, in {@link EnvSchema}; AppConfig's comments give the units.
 * @module
 */
import { z } from 'zod';

export interface AppConfig {
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number;
  /** Interface to bind. */
  readonly host: string;
  /** Where the embedded SQLite store keeps its files. */
  readonly dataDir: string;
  /** PostgreSQL URL; when set the store uses PostgreSQL instead of SQLite. */
  readonly databaseUrl: string | undefined;
  /** Redis URL for the socket.io streams adapter (several processes). Unset = one process, in-memory adapter. */
  readonly redisUrl: string | undefined;
  /** PostgreSQL schema to create and use (one database, several deployments or test runs). */
  readonly databaseSchema: string | undefined;
  /** Prefix of every Redis key and stream this deployment uses. */
  readonly redisPrefix: string;
  /** With Redis: lifetime of a run's lease, ms (how long a killed process blocks its runs). */
  readonly runLeaseMs: number;
  /**
   * With Redis: entries kept in the adapter's stream. Every push (samples to dashboards, risk, alerts) is one
   * entry; a process reading further behind than this loses pushes, and a recovering socket older than the
   * oldest entry is not recovered.
   */
  readonly redisStreamMaxLen: number;
  /** Largest FIT upload accepted, bytes. */
  readonly uploadLimitBytes: number;
  /** Whether POST /api/athletes accepts new athletes. */
  readonly registrationOpen: boolean;
  /** pino level. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Built dashboard files served at `/` when the folder exists. */
  readonly dashboardDir: string | undefined;
  /**
   * Map tiles behind the run page's route map: an http(s) URL template with {z}, {x} and {y} (and optionally
   * {s}), served to the page by GET /api/config; '' = no tiles (MAP_TILE_URL empty or `none`: the track is drawn alone). The page's CSP allows
   * images from its origin.
   */
  readonly mapTileUrl: string;
  /** FIT decoding worker threads. */
  readonly fitWorkers: number;
  /** HTTP API requests per minute per client address (token bucket, this process); 0 = no limit. */
  readonly rateLimitPerAddressPerMin: number;
  /** HTTP API requests per minute per bearer token (token bucket, this process); 0 = no limit. */
  readonly rateLimitPerTokenPerMin: number;
  /**
   * Watch socket: samples a second per connection and per live run (token buckets of a quarter second's worth,
   * at least one full batch of 600), counted before a batch is parsed; over it a batch is refused RATE_LIMITED with
   * `retryAfterMs` and its seq stays free. A watch sends ~1 a second; replays at high speed are far below the
   * default. 0 = no limit.
   */
  readonly socketSamplesPerS: number;
  /** Watch socket handshakes a minute per client address (token bucket, this process); 0 = no limit. */
  readonly socketHandshakesPerAddressPerMin: number;
  /**
   * Failed watch socket handshakes (no token, unknown token) a minute per client address; while the budget is
   * spent, the address's failures are answered RATE_LIMITED with `retryAfterMs` instead of BAD_TOKEN (a valid
   * token still gets in). 0 = no limit.
   */
  readonly socketAuthFailuresPerAddressPerMin: number;
  /** Longest an upload may take to decode and analyse before it is stopped (413 FIT_TOO_COMPLEX), ms. */
  readonly fitTimeLimitMs: number;
  /** Heap limit of each FIT worker, MB. */
  readonly fitMemoryLimitMb: number;
  /** Niceness added to FIT worker threads (Linux: per thread), so decoding yields the CPU to live prompts. */
  readonly fitWorkerNice: number;
  /**
   * Live samples one run may hold in memory, stepped through its engine but not yet stored (the database is
   * unavailable or slow); beyond it new batches are refused (STORE_UNAVAILABLE during an outage, else
   * RATE_LIMITED) and the watch keeps them.
   */
  readonly liveBacklogRunSamples: number;
  /** The same over all live runs of this process (~80 bytes each). */
  readonly liveBacklogSamples: number;
  /**
   * Which peers are proxies whose `X-Forwarded-For` names the client (express's `trust proxy`): false (the TCP
   * peer is the client), true (the left-most forwarded address), a hop count, or a comma-separated list of
   * addresses, subnets and the names loopback, linklocal, uniquelocal. Used for every per-address budget (HTTP
   * and the watch socket) and the logs.
   */
  readonly trustProxy: boolean | number | string;
  /** Time a client has to send a request's headers, ms (slowloris). */
  readonly headersTimeoutMs: number;
  /** Time a client has to send a whole request, body included, ms (32 MB at ~300 KB/s). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Open TCP connections per client address (HTTP and sockets); beyond it a new one is closed at once. 0 = no cap. */
  readonly connectionsPerAddress: number;
  /** Uploads admitted at once (receiving, waiting for the decoder, decoding); past it 429 UPLOAD_QUEUE_FULL. */
  readonly uploadQueueMax: number;
  /** Uploads one athlete may have admitted at once; past it 429 UPLOAD_QUEUE_FULL. */
  readonly uploadsPerAthlete: number;
  /** Most samples (records) one upload may store; past it 413 RUN_TOO_LARGE. */
  readonly uploadMaxSamples: number;
  /** Live runs one athlete may have open in this process; past it `start` gets TOO_MANY_RUNS. 0 = no cap. */
  readonly liveRunsPerAthlete: number;
  /** Live runs one watch connection may have started and open (a watch has one or two). 0 = no cap. */
  readonly liveRunsPerSocket: number;
  /** Live runs open in this process, all athletes (~27 KB each). 0 = no cap. */
  readonly liveRunsPerProcess: number;
  /** A live run quiet this long may be checkpointed out of memory to make room under a cap, ms. */
  readonly liveRunEvictableMs: number;
  /** A live run quiet this long is checkpointed out of memory, ms (its next message rebuilds it). */
  readonly liveRunIdleEvictMs: number;
  /** Watch samples a second per athlete over all its connections and runs (RR values count too). 0 = off. */
  readonly socketAthleteSamplesPerS: number;
  /** Watch messages a second per connection (bursts of four seconds' worth). */
  readonly socketMessagesPerS: number;
  /** Watch messages a second per athlete over all its connections. 0 = off. */
  readonly socketAthleteMessagesPerS: number;
  /** Failed watch handshakes a minute with one presented token; past it refused before the lookup. 0 = off. */
  readonly socketAuthFailuresPerTokenPerMin: number;
  /** How long socket.io keeps a dropped watch connection's state (rooms, missed alerts) to recover it, ms. */
  readonly socketRecoveryMs: number;
  /** Broadcasts kept for recovering connections, at most (one process; with Redis, REDIS_STREAM_MAXLEN). */
  readonly socketRecoveryMaxPackets: number;
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

/**
 * Every variable the server reads: its type, allowed values, default and (`.describe`) what it does — the one
 * definition. `crampguard serve --help` and docs/settings.md are generated from it (src/server/settings-doc.ts).
 */
export const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080)
    .describe('TCP port to listen on; 0 = any free port (the `listening` log line says which).'),
  HOST: z.string().trim().min(1).default('0.0.0.0')
    .describe('Interface to bind.'),
  DATA_DIR: z.string().trim().min(1).default('./data')
    .describe('Folder of the embedded SQLite store (`crampguard.sqlite`), created on first start.'),
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql']).optional()
    .describe('`postgres://…`: use PostgreSQL instead of SQLite.'),
  REDIS_URL: urlWithScheme(['redis', 'rediss']).optional()
    .describe('`redis://…` (`rediss://` for TLS): the socket.io Redis streams adapter and run leases, so several processes work as one service.'),
  DATABASE_SCHEMA: z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .optional()
    .describe('PostgreSQL schema to create and use (one database, several deployments); unset: the server\'s search_path.'),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -')
    .default('crampguard')
    .describe('Prefix of every Redis key and stream of this deployment; deployments sharing a Redis need different ones.'),
  RUN_LEASE_MS: z.coerce.number().int().min(1000).max(120_000).default(6000)
    .describe('With `REDIS_URL`: a live run\'s lease lifetime, ms (renewed every third): how long a killed process\'s runs wait before they move.'),
  REDIS_STREAM_MAXLEN: z.coerce.number().int().min(1000).max(10_000_000).default(100_000)
    .describe('With `REDIS_URL`: entries kept in the socket.io stream; a process reading further behind loses pushes, and a socket older than the oldest entry is not recovered.'),
  UPLOAD_LIMIT_MB: z.coerce.number().positive().max(1024).default(32)
    .describe('Largest upload, MB; larger ones get 413.'),
  REGISTRATION: z.enum(['open', 'closed']).default('open')
    .describe('`closed`: `POST /api/athletes` answers 403.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('JSON logs (pino) on stdout at this level and above.'),
  DASHBOARD_DIR: z.string().trim().min(1).optional()
    .describe('Folder of built dashboard files served at `/`; unset: the package\'s `dist/dashboard`.'),
  MAP_TILE_URL: z
    .string()
    .trim()
    .refine((v) => v === 'none' || (/^https?:\/\/[^\s/]+\/\S*$/.test(v) && ['{z}', '{x}', '{y}'].every((p) => v.includes(p))), 'must be none (or empty) or an http(s) URL with {z}, {x} and {y}')
    .default(DEFAULT_MAP_TILE_URL)
    .describe('Route-map tiles: an http(s) URL template with `{z}`, `{x}` and `{y}` (optionally `{s}`), served to the page by `GET /api/config` and allowed by its CSP; empty or `none`: the track is drawn without tiles.'),
  FIT_WORKERS: z.coerce.number().int().min(1).max(16).default(1)
    .describe('Threads decoding and analysing uploads (piscina).'),
  RATE_LIMIT_ADDRESS_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(6000)
    .describe('API requests a minute per client address (token bucket, per process); over it 429 `RATE_LIMITED` with `Retry-After`; 0 = off.'),
  RATE_LIMIT_TOKEN_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(3000)
    .describe('API requests a minute per bearer token (per process); 0 = off.'),
  SOCKET_SAMPLES_PER_S: z.coerce.number().int().min(0).max(10_000_000).default(5000)
    .describe('Watch samples a second per connection and per live run, in bursts of a quarter second (at least one 600-sample batch); over it a batch gets `RATE_LIMITED` with `retryAfterMs` and its seq stays free; 0 = off.'),
  SOCKET_HANDSHAKES_ADDRESS_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(6000)
    .describe('Watch socket handshakes a minute per client address; 0 = off.'),
  SOCKET_AUTH_FAILURES_ADDRESS_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(60)
    .describe('Failed watch handshakes (no or unknown token) a minute per client address; while spent, its failures are answered `RATE_LIMITED` with `retryAfterMs` (a valid token still gets in); 0 = off.'),
  FIT_TIME_LIMIT_S: z.coerce.number().positive().max(3600).default(30)
    .describe('Longest an upload\'s decode and analysis may take, s: then 413 `FIT_TOO_COMPLEX`.'),
  FIT_MEMORY_LIMIT_MB: z.coerce.number().int().min(64).max(65_536).default(1024)
    .describe('Heap limit of each decoding worker, MB.'),
  FIT_WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10)
    .describe('Niceness added to the decoding threads (Linux applies it per thread), so on a busy machine live prompts get the CPU before an upload\'s decode; 0 = the server\'s.'),
  LIVE_BACKLOG_RUN_SAMPLES: z.coerce.number().int().min(1).max(1_000_000).default(3600)
    .describe('Live samples one run may hold stepped but not yet stored (database down or slow: an hour at 1 Hz, ~290 KB); past it new batches are refused and the watch keeps them.'),
  LIVE_BACKLOG_SAMPLES: z.coerce.number().int().min(1).max(100_000_000).default(1_000_000)
    .describe('The same over all live runs of the process (~80 bytes a sample).'),
  TRUST_PROXY: z
    .string()
    .trim()
    .regex(/^(true|false|\d{1,2}|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, 'must be true, false, a hop count, or a comma-separated list of addresses, subnets, loopback, linklocal, uniquelocal')
    .default('false')
    .describe('Proxies whose `X-Forwarded-For` names the client (express\'s `trust proxy`): `false` (the TCP peer is the client), `true`, a hop count, or a comma-separated list of addresses, subnets and `loopback`, `linklocal`, `uniquelocal`; used for every per-address budget and the logs.'),
  HTTP_HEADERS_TIMEOUT_S: z.coerce.number().positive().max(600).default(10)
    .describe('Time a client has to send a request\'s headers, s (slowloris).'),
  HTTP_REQUEST_TIMEOUT_S: z.coerce.number().positive().max(3600).default(120)
    .describe('Time a client has to send a whole request, body included, s.'),
  HTTP_KEEPALIVE_TIMEOUT_S: z.coerce.number().positive().max(600).default(5)
    .describe('An idle keep-alive connection is closed after this long, s.'),
  CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(256)
    .describe('Open TCP connections per client address (HTTP and sockets); more are closed at once; 0 = no cap.'),
  UPLOAD_QUEUE_MAX: z.coerce.number().int().min(1).max(10_000).default(16)
    .describe('Uploads admitted at once (receiving, queued or decoding); more get 429 `UPLOAD_QUEUE_FULL`.'),
  UPLOADS_PER_ATHLETE: z.coerce.number().int().min(1).max(10_000).default(2)
    .describe('Uploads one athlete may have admitted at once; more get 429 `UPLOAD_QUEUE_FULL`.'),
  UPLOAD_MAX_SAMPLES: z.coerce.number().int().min(1000).max(100_000_000).default(200_000)
    .describe('Most records one upload may store (200,000: 55 h at one a second); more get 413 `RUN_TOO_LARGE`. Storing and reading a run costs the event loop in proportion to its records.'),
  LIVE_RUNS_PER_ATHLETE: z.coerce.number().int().min(0).max(1_000_000).default(4)
    .describe('Live runs one athlete may have open in a process; a `start` past it sets aside the quietest run if it has been quiet LIVE_RUN_EVICTABLE_S, else gets `TOO_MANY_RUNS` with `retryAfterMs`; 0 = no cap.'),
  LIVE_RUNS_PER_SOCKET: z.coerce.number().int().min(0).max(1_000_000).default(2)
    .describe('Live runs one watch connection may have open (a watch has one or two); the same rule; 0 = no cap.'),
  LIVE_RUNS_PER_PROCESS: z.coerce.number().int().min(0).max(10_000_000).default(20_000)
    .describe('Live runs open in one process, all athletes (~27 KB each: ~540 MB at the default); the same rule; 0 = no cap.'),
  LIVE_RUN_EVICTABLE_S: z.coerce.number().int().min(1).max(86_400).default(60)
    .describe('A live run quiet this long may be checkpointed out of memory to make room for a new one under a cap, s.'),
  LIVE_RUN_IDLE_EVICT_S: z.coerce.number().int().min(10).max(86_400).default(900)
    .describe('A live run quiet this long is checkpointed out of memory (its next message rebuilds it), s.'),
  SOCKET_ATHLETE_SAMPLES_PER_S: z.coerce.number().int().min(0).max(10_000_000).default(10_000)
    .describe('Watch samples a second per athlete over all its connections and runs (RR values count as samples), in bursts of a quarter second; 0 = off.'),
  SOCKET_MESSAGES_PER_S: z.coerce.number().int().min(1).max(1_000_000).default(50)
    .describe('Watch messages a second per connection, in bursts of four seconds\' worth; over it `RATE_LIMITED`.'),
  SOCKET_ATHLETE_MESSAGES_PER_S: z.coerce.number().int().min(0).max(10_000_000).default(200)
    .describe('Watch messages a second per athlete over all its connections, bursts of four seconds\' worth; 0 = off.'),
  SOCKET_AUTH_FAILURES_TOKEN_PER_MIN: z.coerce.number().int().min(0).max(10_000_000).default(10)
    .describe('Failed watch handshakes a minute with one presented token; past it that token is refused `RATE_LIMITED` before any lookup; 0 = off.'),
  SOCKET_RECOVERY_S: z.coerce.number().int().min(0).max(3600).default(120)
    .describe('How long socket.io keeps a dropped watch connection\'s state (rooms, missed alerts) to recover it, s; 0 = no recovery.'),
  SOCKET_RECOVERY_MAX_PACKETS: z.coerce.number().int().min(100).max(10_000_000).default(50_000)
    .describe('Pushes kept for recovering watch connections, at most (one process, the oldest dropped first; risk pushes are never kept); with REDIS_URL the stream\'s REDIS_STREAM_MAXLEN bounds it instead.'),
});

/** TRUST_PROXY as express takes it: a boolean, a hop count, or the list as written. */
function trustProxyValue(v: string): boolean | number | string {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

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
  // node:http refuses a headers timeout longer than the request timeout it is part of.
  if (e.HTTP_HEADERS_TIMEOUT_S > e.HTTP_REQUEST_TIMEOUT_S) {
    throw new ConfigError('bad configuration: HTTP_HEADERS_TIMEOUT_S must not exceed HTTP_REQUEST_TIMEOUT_S');
  }
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
    // Unlike the other variables, an empty value is meaningful here: no tiles (as `none`).
    mapTileUrl: env.MAP_TILE_URL === '' || e.MAP_TILE_URL === 'none' ? '' : e.MAP_TILE_URL,
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
    liveRunsPerAthlete: e.LIVE_RUNS_PER_ATHLETE,
    liveRunsPerSocket: e.LIVE_RUNS_PER_SOCKET,
    liveRunsPerProcess: e.LIVE_RUNS_PER_PROCESS,
    liveRunEvictableMs: e.LIVE_RUN_EVICTABLE_S * 1000,
    liveRunIdleEvictMs: e.LIVE_RUN_IDLE_EVICT_S * 1000,
    socketAthleteSamplesPerS: e.SOCKET_ATHLETE_SAMPLES_PER_S,
    socketMessagesPerS: e.SOCKET_MESSAGES_PER_S,
    socketAthleteMessagesPerS: e.SOCKET_ATHLETE_MESSAGES_PER_S,
    socketAuthFailuresPerTokenPerMin: e.SOCKET_AUTH_FAILURES_TOKEN_PER_MIN,
    socketRecoveryMs: e.SOCKET_RECOVERY_S * 1000,
    socketRecoveryMaxPackets: e.SOCKET_RECOVERY_MAX_PACKETS,
  });
}
