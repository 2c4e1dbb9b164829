// The TCP twin of session-sockets.ts: one long-lived connection per session, requests framed on
// the stream (RFC 8489 section 6.2.2), replies cut out by the shared StunStreamFramer and fed into
// the same pure Session as on UDP. What a connection's end means, and when to reconnect, is
// decided by client/connection-state.ts; this file only carries it out on sockets and timers.
import { connect, type Socket } from 'node:net';
import type { Clock } from '../common/clock.js';
import { SetupError } from '../common/errors.js';
import { decodeBindingResponse, type BindingResponse } from '../common/stun/codec.js';
import { StunStreamFramer } from '../common/stun/stream-framer.js';
import { ConnectionState, type ConnectionEnd, type ConnectionLoss, type GiveUp, type ReconnectPolicy, type Reconnection } from './connection-state.js';
import { ConnectionTable, NO_POD } from './connection-table.js';
import type { ReplyOutcome, ReplySource, Session } from './session.js';
import type { ResolvedTarget } from './target.js';

const CONNECT_BATCH = 256;

export interface SessionConnectionsOptions {
  sessions: readonly Session[];
  target: ResolvedTarget;
  clock: Clock;
  policy: ReconnectPolicy;
  /** Every decoded reply, with what its session made of it (after the session's events), when it came, and the session's index. */
  onReply: (outcome: ReplyOutcome, response: BindingResponse, session: Session, now: number, index: number) => void;
  onLoss?: (session: Session, loss: ConnectionLoss) => void;
  onReconnection?: (session: Session, reconnection: Reconnection) => void;
  /** A session that stopped reconnecting (--no-reconnect, or --reconnect-attempts reached). */
  onGiveUp?: (session: Session, giveUp: GiveUp) => void;
}

export interface SessionConnections {
  readonly states: readonly ConnectionState[];
  readonly table: ConnectionTable;
  /** Messages that did not decode as a Binding Success Response. */
  readonly undecodable: number;
  /** Socket errors by code. */
  readonly errors: Readonly<Record<string, number>>;
  /** The local port of each session's current (or last) connection. */
  readonly localPorts: readonly (number | undefined)[];
  /** Whether session `index` can send now; ends its connection as `timeout` if a request went unanswered. */
  ready(index: number, now: number): boolean;
  send(index: number, message: Buffer): void;
  /** Open connections per pod (by their latest answer); `(no answer yet)` for the others. */
  openPerPod(): Record<string, number>;
  close(): void;
}

interface Slot {
  socket: Socket | undefined;
  framer: StunStreamFramer;
  timer: NodeJS.Timeout | undefined;
}

export async function openSessionConnections(options: SessionConnectionsOptions): Promise<SessionConnections> {
  const { sessions, target, clock, policy, onReply } = options;
  const source: ReplySource = { address: target.address, endpoint: target.endpoint };
  const errors: Record<string, number> = {};
  const states = sessions.map(() => new ConnectionState(policy));
  const slots: Slot[] = sessions.map(() => ({ socket: undefined, framer: new StunStreamFramer(), timer: undefined }));
  const localPorts: (number | undefined)[] = sessions.map(() => undefined);
  const table = new ConnectionTable();
  let undecodable = 0;
  let closing = false;
  let fatal: SetupError | undefined;

  const end = (index: number, how: ConnectionEnd | 'refused', now: number): void => {
    const session = sessions[index]!;
    const slot = slots[index]!;
    slot.socket = undefined;
    session.flowEnded(now);
    const { loss, next } = states[index]!.ended(how, now);
    if (loss !== undefined) {
      table.lost(loss);
      options.onLoss?.(session, loss);
    }
    if ('giveUp' in next) options.onGiveUp?.(session, next.giveUp);
    else slot.timer = setTimeout(() => void open(index), Math.max(0, next.reconnectAt - clock()));
  };

  /** Opens session `index`'s connection; resolves once it is open or has failed. */
  const open = (index: number): Promise<void> =>
    new Promise<void>((settled) => {
      const session = sessions[index]!;
      const slot = slots[index]!;
      const state = states[index]!;
      slot.timer = undefined;
      if (closing) return settled();
      state.connecting();
      slot.framer = new StunStreamFramer();
      // noDelay: each request is one small write that must leave now, not wait for Nagle.
      const socket = connect({ host: target.address, port: target.port, noDelay: true });
      slot.socket = socket;
      let errorCode: string | undefined;
      socket.once('connect', () => {
        localPorts[index] = socket.localPort;
        state.opened(session.counters.timedOut);
        settled();
      });
      socket.on('data', (chunk: Buffer) => {
        const now = clock();
        const framed = slot.framer.push(chunk);
        for (const message of framed.messages) {
          const decoded = decodeBindingResponse(message);
          if (!decoded.ok) {
            session.ignore();
            undecodable++;
            continue;
          }
          const outcome = session.reply(decoded.response, source, now);
          if (outcome.rttMs !== undefined && session.identity !== undefined) {
            const reconnection = state.answered(session.identity.label, now);
            if (reconnection !== undefined) {
              table.reconnected(reconnection);
              options.onReconnection?.(session, reconnection);
            }
          }
          onReply(outcome, decoded.response, session, now, index);
        }
        // A stream that is not STUN cannot be resynchronised: end it as an error and start anew.
        if (framed.failure !== undefined) {
          errors[framed.failure] = (errors[framed.failure] ?? 0) + 1;
          errorCode = 'not-stun';
          socket.destroy();
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        errorCode = error.code ?? 'unknown';
        errors[errorCode] = (errors[errorCode] ?? 0) + 1;
        if ((errorCode === 'EMFILE' || errorCode === 'ENFILE') && localPorts[index] === undefined) {
          fatal ??= new SetupError('descriptor-limit', `cannot open another TCP connection (${errorCode}): too many open files; raise "ulimit -n" or use fewer --sessions`);
        }
      });
      socket.once('close', () => {
        settled();
        // Ours to end (timeout, the run's close, or a newer connection): already counted.
        if (slot.socket !== socket || closing) return;
        end(index, endOf(errorCode), clock());
      });
    });

  const all = sessions.map((_, i) => i);
  for (let start = 0; start < all.length && fatal === undefined; start += CONNECT_BATCH) {
    await Promise.all(all.slice(start, start + CONNECT_BATCH).map(open));
  }
  const close = (): void => {
    closing = true;
    for (const slot of slots) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      slot.socket?.destroy();
      slot.socket = undefined;
    }
  };
  if (fatal !== undefined) {
    close();
    throw fatal;
  }

  return {
    states,
    table,
    get undecodable() {
      return undecodable;
    },
    errors,
    localPorts,
    ready(index, now) {
      const state = states[index]!;
      if (state.stalled(sessions[index]!.counters.timedOut)) {
        const socket = slots[index]!.socket;
        slots[index]!.socket = undefined;
        socket?.destroy();
        end(index, 'timeout', now);
      }
      return state.phase === 'open';
    },
    send(index, message) {
      slots[index]!.socket?.write(message);
    },
    openPerPod() {
      const open: Record<string, number> = {};
      sessions.forEach((session, i) => {
        if (states[i]!.phase !== 'open') return;
        const pod = session.identity?.label ?? NO_POD;
        open[pod] = (open[pod] ?? 0) + 1;
      });
      return open;
    },
    close,
  };
}

/** How a connection that we did not end ended, from its last socket error. */
function endOf(errorCode: string | undefined): ConnectionEnd | 'refused' {
  switch (errorCode) {
    case undefined:
      return 'closed';
    case 'ECONNRESET':
      return 'reset';
    case 'ECONNREFUSED':
      return 'refused';
    default:
      return 'error';
  }
}
