// The server's STUN-over-TCP core, with no sockets: which connections to take, what to answer on
// each, and which to close and why. server/tcp-server.ts is the thin adapter around it; the UDP
// twin is server/responder.ts.
//
// Rules (RFC 8489 section 6.2.2 and our own):
// - Messages are cut from the stream by StunStreamFramer. A stream that is not STUN cannot be
//   resynchronised, so its connection is closed unanswered and counted by the framing reason.
// - A well-framed message that is not a good Binding Request (bad FINGERPRINT, an indication...)
//   is dropped and counted as on UDP; the stream is still in step, so the connection stays.
// - No amplification rule: a TCP peer has completed a handshake, so its address is real, and every
//   reply carries all our attributes whatever the request's size.
// - The request counter is per connection: on TCP the connection is the session, and a count back
//   at 1 tells the client it is on a new connection.
// - "The server SHOULD keep the connection open, and let the client close it, unless [...] the
//   connection has timed out": a connection with no whole message for `idleMs` is closed, as
//   `slow` if it was mid-message or not reading its replies, else as `idle`.
// - At most `maxConnections` at once; one more is refused and counted.
import { BindingResponseEncoder, checkMessage, type ServerIdentity } from '../common/stun/codec.js';
import { MessageType } from '../common/stun/constants.js';
import { FRAMING_FAILURES, StunStreamFramer, type FramingFailure } from '../common/stun/stream-framer.js';
import { PeerAddressParser } from './peer-address.js';
import { DROP_REASONS, type DropReason } from './responder.js';

export type TcpRefusal =
  /** Already `maxConnections` open. */
  | 'max-connections'
  /** The peer's address or port is unusable (it went away before we looked). */
  | 'bad-source';

export const TCP_REFUSALS: readonly TcpRefusal[] = ['max-connections', 'bad-source'];

export type TcpCloseReason =
  /** The client closed its side (FIN). */
  | 'client-closed'
  /** The client reset the connection (ECONNRESET). */
  | 'client-reset'
  /** Any other socket error (EPIPE, ETIMEDOUT...). */
  | 'socket-error'
  /** No message for the idle time. */
  | 'idle'
  /** No whole message for the idle time while one was half received or replies were not read. */
  | 'slow'
  /** The server stopped. */
  | 'shutdown'
  /** Garbage on the stream, by what gave it away. */
  | FramingFailure;

export const TCP_CLOSE_REASONS: readonly TcpCloseReason[] = [
  'client-closed',
  'client-reset',
  'socket-error',
  'idle',
  'slow',
  'shutdown',
  ...FRAMING_FAILURES,
];

export interface TcpCounters {
  accepted: number;
  refused: Record<TcpRefusal, number>;
  closed: Record<TcpCloseReason, number>;
  /** Whole messages framed on every connection. */
  requests: number;
  replies: number;
  /** Well-framed messages not answered, by the same reasons as on UDP. */
  drops: Record<DropReason, number>;
}

/** One open connection. Opaque outside this file except for the adapter's `handle`. */
export interface TcpConnection<Handle> {
  readonly handle: Handle;
}

interface Connection<Handle> extends TcpConnection<Handle> {
  readonly framer: StunStreamFramer;
  /** The peer's address bytes (4 or 16) and port, as XOR-MAPPED-ADDRESS reports them. */
  readonly address: Buffer;
  readonly port: number;
  requestCount: number;
  lastMessageAt: number;
  /** The adapter could not write a reply out at once (the peer does not read). */
  writeBlocked: boolean;
}

export type TcpOpenResult<Handle> = { ok: true; connection: TcpConnection<Handle> } | { ok: false; reason: TcpRefusal };

export interface TcpReceiveResult {
  /** Replies to write, in order. */
  replies: readonly Buffer[];
  /** Set when the connection must be closed unanswered after these replies; it is counted already. */
  close?: FramingFailure;
}

export interface TcpResponderOptions {
  identity: ServerIdentity;
  maxConnections: number;
  /** A connection with no whole message for this long is closed (ms). */
  idleMs: number;
  /** The largest message a peer may announce; default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
}

const NO_REPLIES: TcpReceiveResult = Object.freeze({ replies: Object.freeze([]) });

export class TcpResponder<Handle> {
  readonly counters: TcpCounters;
  private readonly connections = new Set<Connection<Handle>>();
  private readonly encoder: BindingResponseEncoder;
  private readonly peer = new PeerAddressParser();

  constructor(private readonly options: TcpResponderOptions) {
    this.encoder = new BindingResponseEncoder(options.identity);
    this.counters = {
      accepted: 0,
      refused: zeros(TCP_REFUSALS),
      closed: zeros(TCP_CLOSE_REASONS),
      requests: 0,
      replies: 0,
      drops: zeros(DROP_REASONS),
    };
  }

  /** Connections open now. */
  get openCount(): number {
    return this.connections.size;
  }

  /** Whether to take a connection from `remoteAddress`:`remotePort` that arrived at `now` (ms). */
  open(handle: Handle, remoteAddress: string | undefined, remotePort: number | undefined, now: number): TcpOpenResult<Handle> {
    if (this.connections.size >= this.options.maxConnections) return this.refused('max-connections');
    const parsed = remoteAddress === undefined ? undefined : this.peer.parse(remoteAddress);
    if (parsed === undefined || remotePort === undefined || remotePort <= 0 || remotePort > 0xffff) return this.refused('bad-source');
    const connection: Connection<Handle> = {
      handle,
      framer: new StunStreamFramer(this.options.maxMessageBytes),
      address: Buffer.from(parsed),
      port: remotePort,
      requestCount: 0,
      lastMessageAt: now,
      writeBlocked: false,
    };
    this.connections.add(connection);
    this.counters.accepted++;
    return { ok: true, connection };
  }

  /** The replies to the messages `chunk` completes on `connection`, received at `now`. */
  receive(connection: TcpConnection<Handle>, chunk: Buffer, now: number): TcpReceiveResult {
    const c = connection as Connection<Handle>;
    if (!this.connections.has(c)) return NO_REPLIES;
    const framed = c.framer.push(chunk);
    let replies: Buffer[] | undefined;
    for (const message of framed.messages) {
      this.counters.requests++;
      c.lastMessageAt = now;
      const failure = checkMessage(message) ?? (message.readUInt16BE(0) === MessageType.BindingRequest ? undefined : 'not-binding-request');
      if (failure !== undefined) {
        this.counters.drops[failure]++;
        continue;
      }
      c.requestCount++;
      (replies ??= []).push(this.encoder.encodeReply(message, c.address, c.port, c.requestCount, Infinity));
      this.counters.replies++;
    }
    if (framed.failure !== undefined) {
      this.close(c, framed.failure);
      return { replies: replies ?? [], close: framed.failure };
    }
    return replies === undefined ? NO_REPLIES : { replies };
  }

  /** The adapter tells whether replies are waiting because the peer does not read them. */
  setWriteBlocked(connection: TcpConnection<Handle>, blocked: boolean): void {
    (connection as Connection<Handle>).writeBlocked = blocked;
  }

  /**
   * Forgets `connection`, counting it under `reason`. The first reason wins: a connection the core
   * closed already (garbage, idle) is not counted again when its socket reports the close.
   * Returns whether this call closed it.
   */
  close(connection: TcpConnection<Handle>, reason: TcpCloseReason): boolean {
    if (!this.connections.delete(connection as Connection<Handle>)) return false;
    this.counters.closed[reason]++;
    return true;
  }

  /** Closes, counts and returns the connections with no whole message since `now - idleMs`. */
  expire(now: number): { handle: Handle; reason: 'idle' | 'slow' }[] {
    const expired: { handle: Handle; reason: 'idle' | 'slow' }[] = [];
    const limit = now - this.options.idleMs;
    for (const c of this.connections) {
      if (c.lastMessageAt > limit) continue;
      const reason = c.writeBlocked || c.framer.bufferedBytes > 0 ? 'slow' : 'idle';
      this.close(c, reason);
      expired.push({ handle: c.handle, reason });
    }
    return expired;
  }

  /** Closes and counts every open connection as `shutdown`; returns their handles. */
  closeAll(): Handle[] {
    const open = [...this.connections];
    for (const c of open) this.close(c, 'shutdown');
    return open.map((c) => c.handle);
  }

  private refused(reason: TcpRefusal): { ok: false; reason: TcpRefusal } {
    this.counters.refused[reason]++;
    return { ok: false, reason };
  }
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
