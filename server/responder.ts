// The server's protocol core, with no sockets: a datagram in, a reply or a drop reason out.
// server/udp-server.ts is the thin adapter that feeds it from a socket.
//
// Rules (RFC 8489 and our own):
// - Only a well-formed Binding Request (checkMessage: header, lengths, FINGERPRINT if present)
//   gets a reply. Everything else is dropped with a reason and never answered, so the server
//   cannot be used to reflect traffic.
// - No amplification: the reply is never larger than the request, except that the bare
//   header + XOR-MAPPED-ADDRESS always goes out, since every STUN client needs at least that
//   (see BindingResponseEncoder).
import { checkMessage, BindingResponseEncoder, type DecodeFailure, type ServerIdentity } from '../common/stun/codec.js';
import { MessageType } from '../common/stun/constants.js';
import { readSessionId } from '../common/stun/transaction-id.js';
import { PeerAddressParser } from './peer-address.js';
import { SessionTable, type SessionTableOptions } from './session-table.js';

export type DropReason =
  | DecodeFailure
  /** A well-formed STUN message that is not a Binding Request (a response, an indication...). */
  | 'not-binding-request'
  /** The datagram came from port 0 or from something that is not an IP address. */
  | 'bad-source';

export const DROP_REASONS: readonly DropReason[] = [
  'not-stun',
  'truncated',
  'bad-length',
  'bad-cookie',
  'truncated-attribute',
  'fingerprint-not-last',
  'bad-fingerprint',
  'bad-address',
  'not-binding-request',
  'bad-source',
];

export interface Reply {
  reply: Buffer;
  /** The session id from the request's transaction id. */
  sessionId: number;
  /** Requests from this session so far, this one included; 1 for a new session. */
  sessionRequestCount: number;
}

export interface Drop {
  drop: DropReason;
}

export type RespondResult = Reply | Drop;

export interface ResponderCounters {
  /** Every datagram handed to respond(). */
  requests: number;
  replies: number;
  drops: Record<DropReason, number>;
}

/** One shared, frozen result per reason, so the drop path allocates nothing. */
const DROPS = Object.fromEntries(DROP_REASONS.map((reason) => [reason, Object.freeze({ drop: reason })])) as Record<
  DropReason,
  Drop
>;

export interface ResponderOptions extends SessionTableOptions {
  identity: ServerIdentity;
}

export class Responder {
  readonly counters: ResponderCounters;
  readonly sessions: SessionTable;
  private readonly encoder: BindingResponseEncoder;
  private readonly peer = new PeerAddressParser();

  constructor(options: ResponderOptions) {
    this.encoder = new BindingResponseEncoder(options.identity);
    this.sessions = new SessionTable(options);
    this.counters = {
      requests: 0,
      replies: 0,
      drops: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
    };
  }

  /** What to do with `datagram`, received from `remoteAddress`:`remotePort` at `now` (ms). */
  respond(datagram: Buffer, remoteAddress: string, remotePort: number, now: number): RespondResult {
    this.counters.requests++;
    const failure = checkMessage(datagram);
    if (failure !== undefined) return this.dropped(failure);
    if (datagram.readUInt16BE(0) !== MessageType.BindingRequest) return this.dropped('not-binding-request');
    if (remotePort <= 0 || remotePort > 0xffff) return this.dropped('bad-source');
    const address = this.peer.parse(remoteAddress);
    if (address === undefined) return this.dropped('bad-source');

    const sessionId = readSessionId(datagram, 8);
    const sessionRequestCount = this.sessions.count(sessionId, now);
    // Budget = the request's size (anti-amplification, see BindingResponseEncoder).
    const reply = this.encoder.encodeReply(datagram, address, remotePort, sessionRequestCount, datagram.length);
    this.counters.replies++;
    return { reply, sessionId, sessionRequestCount };
  }

  /** The request size that earns a reply with every attribute, for any client (IPv6 is larger). */
  fullReplySize(): number {
    return this.encoder.fullReplySize();
  }

  private dropped(reason: DropReason): Drop {
    this.counters.drops[reason]++;
    return DROPS[reason];
  }
}
