// The sockets of a run, one per session, all open before the first request so the ramp is not
// slowed by socket set-up, and the receive path from a datagram into its session. Opening goes in
// batches: 10,000 binds at once would only queue in libuv and hold every half-open socket.
import type { Clock } from '../common/clock.js';
import { decodeBindingResponse, type BindingResponse } from '../common/stun/codec.js';
import type { ReplyOutcome, ReplySource, Session } from './session.js';
import { openSessionSocket, type SessionSocket } from './session-socket.js';
import type { ResolvedTarget } from './target.js';
import { targetIndexOf } from './target-groups.js';

const SOCKET_OPEN_BATCH = 256;
/**
 * SO_RCVBUF of each session socket. A session expects one reply per interval, but a burst
 * (duplicates, a balancer flushing a queue) must not overflow the kernel's default buffer: 1 MiB
 * holds about a thousand small replies. It is a cap, not an allocation, so 10,000 sockets cost
 * nothing until data queues. Linux caps it at net.core.rmem_max.
 */
export const SESSION_RECV_BUFFER_BYTES = 1024 * 1024;

export interface SessionSocketsOptions {
  sessions: readonly Session[];
  target: ResolvedTarget;
  /** Further targets (dual stack): session i sends to [target, ...extraTargets][i mod their number]. */
  extraTargets?: readonly ResolvedTarget[];
  clock: Clock;
  /** SO_RCVBUF of each socket (default SESSION_RECV_BUFFER_BYTES). */
  recvBufferBytes?: number;
  /** Local address the sockets bind (--bind-address); default every address. */
  bindAddress?: string;
  /** Every decoded reply, with what its session made of it (after the session's events), when it came, and the session's index. */
  onReply: (outcome: ReplyOutcome, response: BindingResponse, session: Session, now: number, index: number) => void;
}

export interface SessionSockets {
  /** Socket i belongs to session i. */
  readonly sockets: readonly SessionSocket[];
  /** Datagrams that did not decode as a Binding Success Response. */
  readonly undecodable: number;
  /** Socket errors by code (ECONNREFUSED: an ICMP port unreachable came back). */
  readonly errors: Readonly<Record<string, number>>;
  send(index: number, datagram: Buffer): void;
  close(): void;
}

/** Opens one socket per session; if any fails, closes those already open and throws its error. */
export async function openSessionSockets(options: SessionSocketsOptions): Promise<SessionSockets> {
  const { sessions, clock, onReply } = options;
  const targets = [options.target, ...(options.extraTargets ?? [])];
  const sources: ReplySource[] = targets.map((target) => ({ address: target.address, endpoint: target.endpoint }));
  const errors: Record<string, number> = {};
  let undecodable = 0;
  const sockets: SessionSocket[] = [];
  const open = (session: Session, index: number): Promise<SessionSocket> => {
    const which = targetIndexOf(index, targets.length);
    return openSessionSocket({
      target: targets[which]!,
      recvBufferBytes: options.recvBufferBytes ?? SESSION_RECV_BUFFER_BYTES,
      bindAddress: options.bindAddress,
      onError: (error) => {
        const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
        errors[code] = (errors[code] ?? 0) + 1;
      },
      onMessage: (datagram) => {
        const now = clock();
        const decoded = decodeBindingResponse(datagram);
        if (!decoded.ok) {
          session.ignore();
          undecodable++;
          return;
        }
        onReply(session.reply(decoded.response, sources[which]!, now), decoded.response, session, now, index);
      },
    });
  };
  try {
    for (let start = 0; start < sessions.length; start += SOCKET_OPEN_BATCH) {
      const settled = await Promise.allSettled(sessions.slice(start, start + SOCKET_OPEN_BATCH).map((session, i) => open(session, start + i)));
      for (const result of settled) if (result.status === 'fulfilled') sockets.push(result.value);
      const failure = settled.find((r) => r.status === 'rejected');
      if (failure) throw (failure as PromiseRejectedResult).reason;
    }
  } catch (error) {
    for (const socket of sockets) socket.close();
    throw error;
  }
  return {
    sockets,
    get undecodable() {
      return undecodable;
    },
    errors,
    send: (index, datagram) => sockets[index]!.send(datagram),
    close: () => {
      for (const socket of sockets) socket.close();
    },
  };
}
