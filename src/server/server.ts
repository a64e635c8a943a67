/**
 * Starts the whole service in one process: store, FIT worker pool, express app, socket.io on the same port.
 * `startServer` is what `crampguard serve` and the tests call.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type DestinationStream, type Logger } from 'pino';
import { Server as IoServer } from 'socket.io';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { createAnalyzer, type Analyzer } from './analyzer.js';
import { createApp } from './app.js';
import { LiveBacklog } from '../live/backlog.js';
import type { AppConfig } from './config.js';
import { RunLeases, type LeaseRedis } from './lease.js';
import { Metrics } from './metrics.js';
import { compileTrustProxy } from './client-address.js';
import { guardUpgrades, HandshakeLimiter, rateLimiter } from './rate-limit.js';
import { WatchService } from './watch.js';
import { watchHttpRouter } from './watch-http.js';

export interface StartOptions {
  /** Where JSON logs go. @default stdout */
  logDestination?: DestinationStream;
  /** Use this store instead of opening one from the config (tests: a PostgreSQL schema per test). */
  store?: Store;
}

export interface RunningServer {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The address to open in a browser: the bound host (localhost when bound to every interface) and port. */
  readonly openUrl: string;
  readonly http: HttpServer;
  readonly io: IoServer;
  readonly store: Store;
  readonly log: Logger;
  /** The /watch service (live runs of this process). */
  readonly watch: WatchService;
  /** Stops accepting, checkpoints open live runs, closes sockets, the pool and the store. */
  close(): Promise<void>;
}

/** The folder holding package.json (from src/server or dist/src/server). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

function packageVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Closes a new TCP connection at once when its peer address already has `cap` open (HTTP, keep-alive and
 * websockets alike), so one address cannot take every descriptor. Behind a balancer every client shares its
 * address: raise CONNECTIONS_PER_ADDRESS there (or 0), the balancer caps its own clients.
 */
export function capConnectionsPerAddress(http: HttpServer, cap: number): void {
  const open = new Map<string, number>();
  http.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? 'unknown';
    const n = open.get(addr) ?? 0;
    if (n >= cap) {
      socket.destroy();
      return;
    }
    open.set(addr, n + 1);
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left > 0) open.set(addr, left);
      else open.delete(addr);
    });
  });
}

export async function startServer(config: AppConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = pino({ level: config.logLevel, base: { svc: 'crampguard', pid: process.pid, hostname: hostname() } }, options.logDestination ?? pino.destination(1));
  const store =
    options.store ??
    (await openStore({
      dataDir: config.dataDir,
      ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
      ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    }));
  const analyzer: Analyzer = createAnalyzer(config.fitWorkers, {
    timeLimitMs: config.fitTimeLimitMs,
    memoryLimitMb: config.fitMemoryLimitMb,
    nice: config.fitWorkerNice,
    queueMax: config.uploadQueueMax,
    perOwner: config.uploadsPerAthlete,
    maxSamples: config.uploadMaxSamples,
  });
  const metrics = new Metrics();
  metrics.uploadsAdmitted = () => analyzer.admitted;
  const http = createServer({
    // Slowloris: a client has this long for its headers and for its whole request; Node checks both every
    // connectionsCheckingInterval (30 s by default, too coarse for a 10 s limit).
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
  });
  if (config.connectionsPerAddress > 0) capConnectionsPerAddress(http, config.connectionsPerAddress);
  const root = packageRoot();

  let watch: WatchService | null = null;
  const backlog = new LiveBacklog(config.liveBacklogRunSamples, config.liveBacklogSamples);
  const limit = rateLimiter({ perAddressPerMin: config.rateLimitPerAddressPerMin, perTokenPerMin: config.rateLimitPerTokenPerMin });
  const app = createApp({
    config,
    store,
    analyzer,
    metrics,
    log,
    version: packageVersion(root),
    defaultDashboardDir: join(root, 'dist', 'dashboard'),
    companionDir: join(root, 'dist', 'companion'),
    onRunDeleted: (athleteId, runId) => watch?.forget(athleteId, runId),
    backlog,
    watchHttp: watchHttpRouter({ store, log, watch: () => watch, messagesPerS: config.socketMessagesPerS }),
    ...(limit ? { limits: [limit] } : {}),
  });
  http.on('request', app);

  const io = new IoServer(http, {
    // Watches use websocket only: no long-polling, hence no sticky sessions when there are several processes.
    transports: ['websocket'],
    // Compression costs ~235 KB per connection (../shared/docs/live-transport.md): off.
    perMessageDeflate: false,
    maxHttpBufferSize: 1_000_000,
    serveClient: false,
    // Recovery (rooms and missed alerts after a short drop) goes through the handshake's token check like any
    // connection: a recovery id alone let sockets in with no token or another athlete's (WatchService).
    ...(config.socketRecoveryMs > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: config.socketRecoveryMs, skipMiddlewares: false } }
      : {}),
  });
  const trustProxy = compileTrustProxy(config.trustProxy);
  // Handshake budgets per client address: refused with a code at the socket.io handshake, and an address that
  // keeps on regardless at the HTTP upgrade (cheaper), before socket.io sees it.
  const handshakes = new HandshakeLimiter({
    perAddressPerMin: config.socketHandshakesPerAddressPerMin,
    authFailuresPerAddressPerMin: config.socketAuthFailuresPerAddressPerMin,
    authFailuresPerTokenPerMin: config.socketAuthFailuresPerTokenPerMin,
  });
  if (handshakes.enabled) guardUpgrades(http, handshakes, trustProxy);
  let redis: { quit(): Promise<unknown> } | null = null;
  let leases: RunLeases | undefined;
  if (config.redisUrl) {
    const [{ createClient }, { createAdapter }] = await Promise.all([import('redis'), import('@socket.io/redis-streams-adapter')]);
    // node-redis times commands out after 5 s by default, counted on this process's clock: a process whose event
    // loop stalls that long would see Redis "fail" and drop pushes and leases. A lost connection still errors.
    const client = createClient({ url: config.redisUrl, commandOptions: { timeout: 30_000 } });
    client.on('error', (err: unknown) => log.error({ err }, 'redis error'));
    await client.connect();
    // The streams adapter (not the pub/sub one) keeps connection state recovery working across processes.
    io.adapter(
      createAdapter(client, {
        streamName: `${config.redisPrefix}:socket.io`,
        sessionKeyPrefix: `${config.redisPrefix}:sio:session:`,
        maxLen: config.redisStreamMaxLen,
      }),
    );
    redis = client;
    leases = new RunLeases(client as unknown as LeaseRedis, {
      prefix: config.redisPrefix,
      ttlMs: config.runLeaseMs,
      onLost: (runId, reason) => watch?.leaseLost(runId, reason),
      onError: (err) => log.warn({ err }, 'run lease renewal failed'),
    });
  }
  watch = new WatchService(io, {
    store,
    analyzer,
    metrics,
    log,
    backlog,
    clustered: Boolean(config.redisUrl),
    samplesPerS: config.socketSamplesPerS,
    athleteSamplesPerS: config.socketAthleteSamplesPerS,
    messagesPerS: config.socketMessagesPerS,
    athleteMessagesPerS: config.socketAthleteMessagesPerS,
    recoveryMaxPackets: config.socketRecoveryMaxPackets,
    runLimits: {
      perAthlete: config.liveRunsPerAthlete,
      perSocket: config.liveRunsPerSocket,
      perProcess: config.liveRunsPerProcess,
      evictableAfterMs: config.liveRunEvictableMs,
      idleEvictMs: config.liveRunIdleEvictMs,
    },
    handshakes,
    trustProxy,
    ...(leases ? { leases } : {}),
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const openUrl = `http://${shownHost}:${port}/`;
  log.info({ port, url: openUrl, store: store.kind, redis: Boolean(config.redisUrl), registration: config.registrationOpen ? 'open' : 'closed' }, 'listening');

  let closing: Promise<void> | null = null;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    openUrl,
    http,
    io,
    store,
    log,
    watch,
    close() {
      closing ??= (async () => {
        await watch!.close();
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await analyzer.close();
        metrics.close();
        if (redis) await redis.quit().catch(() => {});
        if (!options.store) await store.close();
      })();
      return closing;
    },
  };
}
