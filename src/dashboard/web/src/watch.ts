/**
 * The /watch socket as the dashboard uses it, in one place: the simulator speaks it exactly as a watch does
 * (start, numbered sample batches, events, end), the live view follows a run. Event names and payloads are the
 * protocol's own types from src/wire/events.ts, so a change there breaks this build rather than the product.
 */
import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ClientToServerEvents,
  EndAck,
  FollowAck,
  ServerToClientEvents,
  StartAck,
  StartRun,
  WireEvent,
  WireSample,
  BatchAck,
  EventAck,
} from '../../../wire/events.js';

export type WatchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export class WatchError extends Error {
  override readonly name = 'WatchError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ACK_TIMEOUT_MS = 15_000;

/** Connects to /watch with the athlete's token (websocket only, as the server requires). */
export function connectWatch(token: string): Promise<WatchSocket> {
  const socket: WatchSocket = io('/watch', { transports: ['websocket'], auth: { token }, reconnectionDelayMax: 5000 });
  return new Promise((resolve, reject) => {
    const onError = (err: Error & { data?: { code?: string } }): void => {
      socket.off('connect', onConnect);
      socket.disconnect();
      const code = err.data?.code ?? 'CONNECT_FAILED';
      reject(new WatchError(code, code === 'BAD_TOKEN' ? 'Your token was not accepted: sign in again.' : `Could not connect to the live service (${err.message}).`));
    };
    const onConnect = (): void => {
      socket.off('connect_error', onError);
      resolve(socket);
    };
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
  });
}

function unwrap<T>(reply: Ack<T>): { ok: true } & T {
  if (reply.ok) return reply;
  throw new WatchError(reply.error.code, reply.error.message);
}

async function call<T>(promise: Promise<Ack<T>>): Promise<{ ok: true } & T> {
  try {
    return unwrap(await promise);
  } catch (err) {
    if (err instanceof WatchError) throw err;
    throw new WatchError('TIMEOUT', 'The live service did not answer in time.');
  }
}

export const watch = {
  start(socket: WatchSocket, msg: StartRun): Promise<{ ok: true } & StartAck> {
    return call(socket.timeout(ACK_TIMEOUT_MS).emitWithAck('start', msg) as Promise<Ack<StartAck>>);
  },
  samples(socket: WatchSocket, runId: string, seq: number, samples: WireSample[]): Promise<{ ok: true } & BatchAck> {
    return call(socket.timeout(ACK_TIMEOUT_MS).emitWithAck('samples', { runId, seq, samples }) as Promise<Ack<BatchAck>>);
  },
  event(socket: WatchSocket, runId: string, id: string, event: WireEvent): Promise<{ ok: true } & EventAck> {
    return call(socket.timeout(ACK_TIMEOUT_MS).emitWithAck('event', { runId, id, event }) as Promise<Ack<EventAck>>);
  },
  end(socket: WatchSocket, runId: string): Promise<{ ok: true } & EndAck> {
    return call(socket.timeout(60_000).emitWithAck('end', { runId }) as Promise<Ack<EndAck>>);
  },
  follow(socket: WatchSocket, serverRunId: string): Promise<{ ok: true } & FollowAck> {
    return call(socket.timeout(ACK_TIMEOUT_MS).emitWithAck('follow', { runId: serverRunId }) as Promise<Ack<FollowAck>>);
  },
};
