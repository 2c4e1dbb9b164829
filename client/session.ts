// One simulated session's bookkeeping, pure: the caller says when a request went out, when a
// reply came in and what time it is; this class classifies every sequence number and emits
// change events. No sockets, no timers, so tests step time without sleeping.
//
// Every request's fate is exactly one of: answered (on time), late (answered after it had been
// counted lost: moved from lost to late, never counted twice), lost, or still pending when the
// run stopped. Duplicates and reordered replies are counted on the side.
import type { BindingResponse } from '../common/stun/codec.js';
import { formatEndpoint } from '../common/ip-address.js';
import { readSequence, readSessionId } from '../common/stun/transaction-id.js';
import { LOSS_BURST, type ServingIdentity, type SessionEvent } from './events.js';
import type { IdentityRegistry } from './serving-identity.js';

/**
 * How many of the most recent sequence numbers a session remembers. A reply to an older request
 * is "stale" and ignored. 128 requests cover two minutes at the default interval, far longer
 * than any reply stays in flight, at about 1.4 kB per session.
 */
export const WINDOW = 128;
const MASK = WINDOW - 1;

const State = {
  Unused: 0,
  Pending: 1,
  Answered: 2,
  /** Timed out, not (yet) attributed to the request or the reply. */
  Lost: 3,
  /** Timed out; the server's counter says the request never arrived. */
  LostRequest: 4,
  /** Timed out; the server's counter says the request arrived, so the reply was lost. */
  LostReply: 5,
  Late: 6,
} as const;

/** What reply() made of a datagram. */
export const ReplyKind = {
  Answered: 1,
  /** Answered, but after a later request had already been answered. */
  Reordered: 2,
  /** Answered after the timeout, so it had been counted lost: now counted late instead. */
  Late: 3,
  Duplicate: 4,
  /** Not a reply to this session: another session id, a request never sent, or wrong random bits. */
  Foreign: 5,
  /** A reply to a request older than the WINDOW: no longer tracked. */
  Stale: 6,
} as const;
export type ReplyKind = (typeof ReplyKind)[keyof typeof ReplyKind];

/** Where a reply came from: constant per connected socket, so formatted once. */
export interface ReplySource {
  address: string;
  endpoint: string;
}

export interface SessionOptions {
  /** 1-based session number, for people. */
  number: number;
  /** 48-bit session id carried in the transaction id. */
  sessionId: number;
  timeoutMs: number;
  identities: IdentityRegistry;
  emit: (event: SessionEvent) => void;
  /** 16 random bits per request (tests pass a fixed function). */
  random?: () => number;
}

/** A stretch of requests between two replies that both carried the server's request counter. */
interface CounterGap {
  fromSequence: number;
  toSequence: number;
  /** Requests the server received strictly between the two replies. */
  arrived: number;
}

export class Session {
  readonly number: number;
  readonly sessionId: number;
  private readonly timeoutMs: number;
  private readonly identities: IdentityRegistry;
  private readonly emit: (event: SessionEvent) => void;
  private readonly random: () => number;

  private readonly state = new Uint8Array(WINDOW);
  private readonly sentAt = new Float64Array(WINDOW);
  private readonly tags = new Uint16Array(WINDOW);
  private nextSequence = 0;
  /** No request older than this is pending. */
  private oldestPending = 0;
  private highestAnswered = -1;

  sent = 0;
  received = 0;
  /** Requests that passed their timeout unanswered; those later answered also count in `late`. */
  timedOut = 0;
  late = 0;
  duplicates = 0;
  reordered = 0;
  lostRequests = 0;
  lostReplies = 0;
  podChanges = 0;
  addressChanges = 0;
  lossBursts = 0;
  /** Datagrams that were not replies to this session's requests, or too old to track. */
  ignored = 0;
  rttSumMs = 0;
  rttMaxMs = 0;
  /** The RTT of the latest answered request (read by the caller for its histograms). */
  lastRttMs = 0;
  longestOutageMs = 0;
  firstSentAt: number | undefined;
  establishedAt: number | undefined;
  lastReplyAt: number | undefined;
  identity: ServingIdentity | undefined;
  /** Reflective address as `ip:port` / `[v6]:port`. */
  mapped: string | undefined;
  private mappedAddress: string | undefined;
  private mappedPort = -1;
  private consecutiveLosses = 0;
  private lossSinceReply = false;
  private anchorSequence = -1;
  private anchorCount = 0;
  private readonly gaps: CounterGap[] = [];

  constructor(options: SessionOptions) {
    this.number = options.number;
    this.sessionId = options.sessionId;
    this.timeoutMs = options.timeoutMs;
    this.identities = options.identities;
    this.emit = options.emit;
    this.random = options.random ?? (() => (Math.random() * 0x10000) | 0);
  }

  /** Requests counted lost that were never answered. */
  get lost(): number {
    return this.timedOut - this.late;
  }

  /** Requests sent whose fate is not known yet (within their timeout). */
  get pending(): number {
    let pending = 0;
    for (let s = Math.max(this.oldestPending, this.nextSequence - WINDOW); s < this.nextSequence; s++) {
      if (this.state[s & MASK] === State.Pending) pending++;
    }
    return pending;
  }

  /** Records a request going out now; returns its sequence number. */
  send(now: number): number {
    const sequence = this.nextSequence++;
    const slot = sequence & MASK;
    // The slot's previous request is WINDOW requests old; if the timeout is so long that it is
    // still pending, it is lost by any reasonable measure.
    if (this.state[slot] === State.Pending) this.markLost(sequence - WINDOW, now);
    this.state[slot] = State.Pending;
    this.sentAt[slot] = now;
    this.tags[slot] = this.random() & 0xffff;
    this.sent++;
    this.firstSentAt ??= now;
    return sequence;
  }

  /** The random bits to put in request `sequence`'s transaction id. */
  tagOf(sequence: number): number {
    return this.tags[sequence & MASK]!;
  }

  /** Counts as lost every request whose timeout has passed. */
  expire(now: number): void {
    const deadline = now - this.timeoutMs;
    let s = Math.max(this.oldestPending, this.nextSequence - WINDOW);
    for (; s < this.nextSequence; s++) {
      const slot = s & MASK;
      if (this.state[slot] !== State.Pending) continue;
      // Requests go out in order, so the first one still within its timeout ends the scan.
      if (this.sentAt[slot]! > deadline) break;
      this.markLost(s, now);
    }
    this.oldestPending = s;
    if (this.gaps.length > 0) this.settleGaps();
  }

  private markLost(sequence: number, now: number): void {
    this.state[sequence & MASK] = State.Lost;
    this.timedOut++;
    this.lossSinceReply = true;
    if (++this.consecutiveLosses === LOSS_BURST) {
      this.lossBursts++;
      this.emit({
        type: 'loss-burst',
        time: now,
        session: this.number,
        consecutive: LOSS_BURST,
        silentMs: now - (this.lastReplyAt ?? this.firstSentAt ?? now),
      });
    }
  }

  /** Classifies one decoded Binding Success Response that arrived at `now`. */
  reply(response: BindingResponse, source: ReplySource, now: number): ReplyKind {
    const id = response.transactionId;
    const sequence = readSequence(id);
    if (readSessionId(id) !== this.sessionId || sequence >= this.nextSequence) {
      this.ignored++;
      return ReplyKind.Foreign;
    }
    if (sequence < this.nextSequence - WINDOW) {
      this.ignored++;
      return ReplyKind.Stale;
    }
    const slot = sequence & MASK;
    if (id.readUInt16BE(10) !== this.tags[slot]) {
      this.ignored++;
      return ReplyKind.Foreign;
    }
    const state = this.state[slot]!;
    if (state === State.Answered || state === State.Late) {
      this.duplicates++;
      return ReplyKind.Duplicate;
    }

    let kind: ReplyKind = ReplyKind.Answered;
    if (state === State.Pending) {
      this.state[slot] = State.Answered;
      if (sequence < this.highestAnswered) {
        this.reordered++;
        kind = ReplyKind.Reordered;
      }
    } else {
      // Counted lost at its timeout; an answer after all is late, not lost.
      if (state === State.LostRequest) this.lostRequests--;
      else if (state === State.LostReply) this.lostReplies--;
      this.state[slot] = State.Late;
      this.late++;
      kind = ReplyKind.Late;
    }
    this.received++;
    const rtt = now - this.sentAt[slot]!;
    this.lastRttMs = rtt;
    this.rttSumMs += rtt;
    if (rtt > this.rttMaxMs) this.rttMaxMs = rtt;

    const identity = this.identityOf(response, source);
    identity.replies++;
    // Only the newest reply speaks for where the session is now: an old reply arriving late
    // must not flip the session back to a pod it has left.
    if (sequence > this.highestAnswered) this.advance(sequence, response, identity, now, rtt);
    return kind;
  }

  private identityOf(response: BindingResponse, source: ReplySource): ServingIdentity {
    const current = this.identity;
    const pod = response.podName;
    if (pod !== undefined) {
      if (current !== undefined && current.named && current.pod === pod && current.node === response.nodeName) return current;
      return this.identities.named(pod, response.nodeName);
    }
    if (current !== undefined && !current.named && current.source === source.endpoint && current.software === response.software) {
      return current;
    }
    return this.identities.unnamed(source.address, source.endpoint, response.software);
  }

  private advance(sequence: number, response: BindingResponse, identity: ServingIdentity, now: number, rtt: number): void {
    const silentMs = now - (this.lastReplyAt ?? this.firstSentAt ?? now);
    if (this.lossSinceReply) {
      if (silentMs > this.longestOutageMs) this.longestOutageMs = silentMs;
      this.lossSinceReply = false;
    }
    this.highestAnswered = sequence;
    this.consecutiveLosses = 0;

    const address = response.mappedAddress;
    const addressChanged =
      address !== undefined && (address.address !== this.mappedAddress || address.port !== this.mappedPort);
    const previousMapped = this.mapped;
    if (addressChanged) {
      this.mappedAddress = address.address;
      this.mappedPort = address.port;
      this.mapped = formatEndpoint(address.address, address.port);
    }

    const previous = this.identity;
    this.identity = identity;
    if (previous === undefined) {
      this.establishedAt = now;
      this.emit({ type: 'established', time: now, session: this.number, identity, mapped: this.mapped, rttMs: rtt });
    } else {
      if (previous !== identity) {
        this.podChanges++;
        this.emit({ type: 'pod-change', time: now, session: this.number, from: previous, to: identity, silentMs });
      }
      if (addressChanged && previousMapped !== undefined) {
        this.addressChanges++;
        this.emit({ type: 'address-change', time: now, session: this.number, from: previousMapped, to: this.mapped!, silentMs });
      }
    }
    this.lastReplyAt = now;
    this.trackCounter(sequence, response.sessionRequestCount, previous === undefined || previous === identity);
  }

  /**
   * The server counts the requests it received from this session (SESSION-REQUEST-COUNT). Between
   * two replies from the same pod, the counter's step minus one is how many of the requests in
   * between reached it; those of them never answered had their reply lost, the rest of the
   * losses were requests that never arrived. A gap is settled once none of its requests is
   * pending any more.
   */
  private trackCounter(sequence: number, count: number | undefined, samePod: boolean): void {
    if (count === undefined) {
      this.anchorSequence = -1;
      return;
    }
    if (samePod && this.anchorSequence >= 0 && count > this.anchorCount) {
      this.gaps.push({ fromSequence: this.anchorSequence, toSequence: sequence, arrived: count - this.anchorCount - 1 });
      this.settleGaps();
    }
    // A pod change or a counter that went backwards (server restarted, or its session table
    // forgot us) leaves the stretch before this reply unattributed.
    this.anchorSequence = sequence;
    this.anchorCount = count;
  }

  private settleGaps(): void {
    while (this.gaps.length > 0) {
      const gap = this.gaps[0]!;
      if (gap.fromSequence < this.nextSequence - WINDOW) {
        this.gaps.shift();
        continue;
      }
      let answered = 0;
      let lost = 0;
      for (let s = gap.fromSequence + 1; s < gap.toSequence; s++) {
        const state = this.state[s & MASK];
        if (state === State.Pending) return;
        if (state === State.Answered || state === State.Late) answered++;
        else if (state === State.Lost) lost++;
      }
      this.gaps.shift();
      let replyLosses = Math.min(lost, Math.max(0, gap.arrived - answered));
      for (let s = gap.fromSequence + 1; s < gap.toSequence; s++) {
        const slot = s & MASK;
        if (this.state[slot] !== State.Lost) continue;
        if (replyLosses > 0) {
          this.state[slot] = State.LostReply;
          this.lostReplies++;
          replyLosses--;
        } else {
          this.state[slot] = State.LostRequest;
          this.lostRequests++;
        }
      }
    }
  }

  /**
   * Ends the session at `now`: requests past their timeout count as lost, those still within it
   * are left pending (not lost), and a silence that is still going on counts as an outage.
   */
  finish(now: number): void {
    this.expire(now);
    if (this.lossSinceReply) {
      const silentMs = now - (this.lastReplyAt ?? this.firstSentAt ?? now);
      if (silentMs > this.longestOutageMs) this.longestOutageMs = silentMs;
    }
  }
}
