/**
 * The client side of the watch protocol over HTTP (`POST /api/watch/<message>`, src/server/watch-http.ts),
 * shaped like the small part of a socket.io socket that `WatchClient` uses, so the client's outbox, seq
 * numbering, resume and resend work unchanged on either transport (`transport: 'http'`).
 *
 * "Connected" means the last request reached the server. A request that fails on the network (no route, offline)
 * is a disconnect: every request in flight is given up, and after a back-off the link says `connect` again, so
 * the client resumes with `start` as after any reconnect. No answer within the timeout is only a lost answer.
 * Pushes do not exist over HTTP: the alerts and risk each answer carries are emitted as `alert` and `risk`.
 * Runs in Node (fetch) and in browsers.
 * @module
 */
import type { WireAlert, WireRisk } from './events.js';

type Listener = (...args: any[]) => void;

export interface HttpLinkOptions {
  token: string;
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
}

/** A watch's link to one server over HTTP. */
export class HttpWatchLink {
  connected = false;
  /** Kept true while the link reconnects by itself (as socket.io's `active`). */
  active = true;
  /** Never: HTTP keeps no state between requests that could be recovered. */
  readonly recovered = false;
  /** For tests, as on a socket: `link.io.engine.close()` drops the "connection" under the client. */
  readonly io = { engine: { close: () => this.drop('transport close') } };
  private readonly listeners = new Map<string, Listener[]>();
  private inflight = new AbortController();
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Per client run id: the alert-log position of the last answer (sent back as `alertsAfter`). */
  private readonly alertPos = new Map<string, number>();
  private readonly base: string;

  constructor(
    url: string,
    private readonly opts: HttpLinkOptions,
  ) {
    this.base = `${url.replace(/\/$/, '')}/api/watch`;
    this.schedule(0);
  }

  on(event: string, fn: Listener): this {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return this;
  }

  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) fn(...args);
  }

  connect(): this {
    this.active = true;
    if (!this.connected) this.schedule(0);
    return this;
  }

  disconnect(): this {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const was = this.connected;
    this.connected = false;
    this.inflight.abort();
    this.inflight = new AbortController();
    if (was) this.emit('disconnect', 'io client disconnect');
    return this;
  }

  /** As a socket's `timeout(ms).emitWithAck(event, msg)`: the answer, or a rejection when none came in time. */
  timeout(ms: number): { emitWithAck: (event: string, msg: unknown) => Promise<any> } {
    return { emitWithAck: (event, msg) => this.request(event, msg, ms) };
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.active || this.connected) return;
      this.connected = true;
      this.emit('connect');
    }, delayMs);
  }

  /** The network failed under the link: give up what is in flight, come back after a back-off. */
  private drop(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.inflight.abort();
    this.inflight = new AbortController();
    this.emit('disconnect', reason);
    const base = this.opts.reconnectionDelay ?? 250;
    const max = this.opts.reconnectionDelayMax ?? 2000;
    const delay = Math.min(max, base * 2 ** Math.min(this.attempts, 10)) * (0.5 + Math.random() / 2);
    this.attempts++;
    if (this.active) this.schedule(delay);
  }

  private async request(event: string, msg: unknown, timeoutMs: number): Promise<any> {
    if (!this.connected) throw new Error('not connected');
    const runId = (msg as { runId?: unknown } | null)?.runId;
    const after = typeof runId === 'string' ? (this.alertPos.get(runId) ?? 0) : 0;
    const link = this.inflight.signal;
    const signal = AbortSignal.any([link, AbortSignal.timeout(timeoutMs)]);
    let res: Response;
    let body: any;
    try {
      res = await fetch(`${this.base}/${event}${after > 0 ? `?alertsAfter=${after}` : ''}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.opts.token}` },
        body: JSON.stringify(msg),
        signal,
      });
      body = await res.json().catch(() => null);
    } catch (err) {
      // Aborted by a drop or by the timeout: no answer. Anything else: the network is gone.
      if (!link.aborted && !signal.aborted) this.drop('transport error');
      throw err;
    }
    this.attempts = 0;
    if (res.status === 401) {
      // A refused token will not get better by retrying: as a refused socket handshake.
      const code = body?.error?.code ?? 'BAD_TOKEN';
      const err = Object.assign(new Error(body?.error?.message ?? 'unauthorized'), { data: { code } });
      this.connected = false;
      this.active = false;
      this.emit('connect_error', err);
      throw err;
    }
    if (!body || typeof body !== 'object' || !body.error === !body.ok) {
      throw new Error(`unexpected answer: HTTP ${res.status}`);
    }
    if (body.ok === undefined) {
      // Refused before the watch layer (the API's own rate limits): the same error ack shape.
      const retry = Number(res.headers.get('retry-after'));
      body = { ok: false, error: body.error, ...(Number.isFinite(retry) && retry > 0 ? { retryAfterMs: retry * 1000 } : {}) };
    }
    if (body.ok && typeof runId === 'string') {
      if (typeof body.alertPos === 'number') this.alertPos.set(runId, Math.max(after, body.alertPos));
      for (const a of (body.alerts ?? []) as WireAlert[]) this.emit('alert', { ...a, runId });
      if (body.risk) this.emit('risk', body.risk as WireRisk);
    }
    return body;
  }
}
