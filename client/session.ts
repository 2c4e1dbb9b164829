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
import { LossAttribution, type RequestFate } from './loss-attribution.js';
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

/** Each State as the loss attribution sees it (indexed by State). */
const FATES: readonly RequestFate[] = ['other', 'pending', 'answered', 'lost', 'other', 'other', 'answered'];

/** What reply() made of a datagram, with the RTT when it answered one of our requests. */
export type ReplyOutcome =
  /** `reordered`: answered after a later request had been; `late`: after its timeout, so moved from lost to late. */
  | { readonly kind: 'answered' | 'reordered' | 'late'; readonly rttMs: number }
  /**
   * `duplicate`: a second copy; `foreign`: another session id, a request never sent, or wrong
   * random bits; `stale`: a reply to a request older than the WINDOW, no longer tracked.
   */
  | { readonly kind: 'duplicate' | 'foreign' | 'stale'; readonly rttMs?: undefined };

/** A new session's figures: all zero, no times yet. */
export function emptyCounters(): SessionCounters {
  return {
    sent: 0,
    received: 0,
    timedOut: 0,
    late: 0,
    duplicates: 0,
    reordered: 0,
    lostRequests: 0,
    lostReplies: 0,
    podChanges: 0,
    addressChanges: 0,
    lossBursts: 0,
    ignored: 0,
    rttSumMs: 0,
    rttMaxMs: 0,
    longestOutageMs: 0,
    firstSentAt: undefined,
    establishedAt: undefined,
    lastReplyAt: undefined,
  };
}

// Shared and frozen: the outcomes without an RTT cost no allocation on the receive path.
const DUPLICATE: ReplyOutcome = Object.freeze({ kind: 'duplicate' });
const FOREIGN: ReplyOutcome = Object.freeze({ kind: 'foreign' });
const STALE: ReplyOutcome = Object.freeze({ kind: 'stale' });

/** A session's figures, read-only to everyone but the session. */
export interface SessionCounters {
  sent: number;
  received: number;
  /** Requests that passed their timeout unanswered; those later answered also count in `late`. */
  timedOut: number;
  late: number;
  duplicates: number;
  reordered: number;
  lostRequests: number;
  lostReplies: number;
  podChanges: number;
  addressChanges: number;
  lossBursts: number;
  /** Datagrams that were not replies to this session's requests, undecodable, or too old to track. */
  ignored: number;
  rttSumMs: number;
  rttMaxMs: number;
  longestOutageMs: number;
  firstSentAt: number | undefined;
  establishedAt: number | undefined;
  lastReplyAt: number | undefined;
}

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

  private readonly c: SessionCounters = emptyCounters();

  private currentIdentity: ServingIdentity | undefined;
  private currentMapped: string | undefined;
  private mappedAddress: string | undefined;
  private mappedPort = -1;
  private consecutiveLosses = 0;
  /**
   * Requests in State.Pending, kept as they change: the totals read it for every session four
   * times a second (the status line), where a scan of each session's window touched 10,000 arrays.
   */
  private pendingCount = 0;
  private lossSinceReply = false;
  private readonly attribution = new LossAttribution({
    oldestTracked: () => this.nextSequence - WINDOW,
    fateOf: (sequence) => FATES[this.state[sequence & MASK]!]!,
    attribute: (sequence, side) => {
      if (side === 'reply') {
        this.state[sequence & MASK] = State.LostReply;
        this.c.lostReplies++;
      } else {
        this.state[sequence & MASK] = State.LostRequest;
        this.c.lostRequests++;
      }
    },
  });

  constructor(options: SessionOptions) {
    this.number = options.number;
    this.sessionId = options.sessionId;
    this.timeoutMs = options.timeoutMs;
    this.identities = options.identities;
    this.emit = options.emit;
    this.random = options.random ?? (() => (Math.random() * 0x10000) | 0);
  }

  /** The session's figures: a live, read-only view (no copy per read). */
  get counters(): Readonly<SessionCounters> {
    return this.c;
  }

  /** Who answered the newest reply; undefined before the first. */
  get identity(): ServingIdentity | undefined {
    return this.currentIdentity;
  }

  /** The newest reflective address as `ip:port` / `[v6]:port`. */
  get mapped(): string | undefined {
    return this.currentMapped;
  }

  /** Requests counted lost that were never answered. */
  get lost(): number {
    return this.c.timedOut - this.c.late;
  }

  /** Requests sent whose fate is not known yet (within their timeout). */
  get pending(): number {
    return this.pendingCount;
  }

  /** Records a request going out now; returns its sequence number. */
  send(now: number): number {
    const sequence = this.nextSequence++;
    const slot = sequence & MASK;
    // The slot's previous request is WINDOW requests old; if the timeout is so long that it is
    // still pending, it is lost by any reasonable measure.
    if (this.state[slot] === State.Pending) this.markLost(sequence - WINDOW, now);
    this.state[slot] = State.Pending;
    this.pendingCount++;
    this.sentAt[slot] = now;
    this.tags[slot] = this.random() & 0xffff;
    this.c.sent++;
    this.c.firstSentAt ??= now;
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
    if (this.attribution.unsettled) this.attribution.settle();
  }

  /** Request `sequence`, pending until now, reached its timeout (or can no longer be answered). */
  private markLost(sequence: number, now: number): void {
    this.state[sequence & MASK] = State.Lost;
    this.pendingCount--;
    this.c.timedOut++;
    this.lossSinceReply = true;
    if (++this.consecutiveLosses === LOSS_BURST) {
      this.c.lossBursts++;
      this.emit({
        type: 'loss-burst',
        time: now,
        session: this.number,
        consecutive: LOSS_BURST,
        silentMs: this.silentSince(now),
      });
    }
  }

  /** Classifies one decoded Binding Success Response that arrived at `now`. */
  reply(response: BindingResponse, source: ReplySource, now: number): ReplyOutcome {
    const id = response.transactionId;
    const sequence = readSequence(id);
    if (readSessionId(id) !== this.sessionId || sequence >= this.nextSequence) return this.ignored(FOREIGN);
    if (sequence < this.nextSequence - WINDOW) return this.ignored(STALE);
    const slot = sequence & MASK;
    if (id.readUInt16BE(10) !== this.tags[slot]) return this.ignored(FOREIGN);
    const state = this.state[slot]!;
    if (state === State.Answered || state === State.Late) {
      this.c.duplicates++;
      return DUPLICATE;
    }

    let kind: 'answered' | 'reordered' | 'late' = 'answered';
    if (state === State.Pending) {
      this.state[slot] = State.Answered;
      this.pendingCount--;
      if (sequence < this.highestAnswered) {
        this.c.reordered++;
        kind = 'reordered';
      }
    } else {
      // Counted lost at its timeout; an answer after all is late, not lost.
      if (state === State.LostRequest) this.c.lostRequests--;
      else if (state === State.LostReply) this.c.lostReplies--;
      this.state[slot] = State.Late;
      this.c.late++;
      kind = 'late';
    }
    this.c.received++;
    const rttMs = now - this.sentAt[slot]!;
    this.c.rttSumMs += rttMs;
    if (rttMs > this.c.rttMaxMs) this.c.rttMaxMs = rttMs;

    const identity = this.identityOf(response, source);
    identity.replies++;
    // Only the newest reply speaks for where the session is now: an old reply arriving late
    // must not flip the session back to a pod it has left.
    if (sequence > this.highestAnswered) this.advance(sequence, response, identity, now, rttMs);
    return { kind, rttMs };
  }

  /**
   * The flow carrying the requests is gone (a TCP connection ended): what is still pending on it
   * can never be answered, so it counts lost now, not at its timeout; and the next flow has a new
   * source port by design, so its reflective address is not counted as a change.
   */
  flowEnded(now: number): void {
    for (let s = Math.max(this.oldestPending, this.nextSequence - WINDOW); s < this.nextSequence; s++) {
      if (this.state[s & MASK] === State.Pending) this.markLost(s, now);
    }
    this.oldestPending = this.nextSequence;
    this.mappedAddress = undefined;
    this.mappedPort = -1;
    this.currentMapped = undefined;
    if (this.attribution.unsettled) this.attribution.settle();
  }

  /** Counts a datagram that is no reply to this session's requests (or did not decode at all). */
  ignore(): void {
    this.c.ignored++;
  }

  private ignored(outcome: ReplyOutcome): ReplyOutcome {
    this.c.ignored++;
    return outcome;
  }

  private identityOf(response: BindingResponse, source: ReplySource): ServingIdentity {
    const current = this.currentIdentity;
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
    const silentMs = this.silentSince(now);
    if (this.lossSinceReply) {
      if (silentMs > this.c.longestOutageMs) this.c.longestOutageMs = silentMs;
      this.lossSinceReply = false;
    }
    this.highestAnswered = sequence;
    this.consecutiveLosses = 0;

    const address = response.mappedAddress;
    const addressChanged =
      address !== undefined && (address.address !== this.mappedAddress || address.port !== this.mappedPort);
    const previousMapped = this.currentMapped;
    if (addressChanged) {
      this.mappedAddress = address.address;
      this.mappedPort = address.port;
      this.currentMapped = formatEndpoint(address.address, address.port);
    }

    const previous = this.currentIdentity;
    this.currentIdentity = identity;
    if (previous === undefined) {
      this.c.establishedAt = now;
      this.emit({ type: 'established', time: now, session: this.number, identity, mapped: this.currentMapped, rttMs: rtt });
    } else {
      if (previous !== identity) {
        this.c.podChanges++;
        this.emit({ type: 'pod-change', time: now, session: this.number, from: previous, to: identity, silentMs });
      }
      if (addressChanged && previousMapped !== undefined) {
        this.c.addressChanges++;
        this.emit({ type: 'address-change', time: now, session: this.number, from: previousMapped, to: this.currentMapped!, silentMs });
      }
    }
    this.c.lastReplyAt = now;
    this.attribution.reply(sequence, response.sessionRequestCount, previous === undefined || previous === identity);
  }

  /**
   * Ends the session at `now`: requests past their timeout count as lost, those still within it
   * are left pending (not lost), and a silence that is still going on counts as an outage.
   */
  finish(now: number): void {
    this.expire(now);
    if (this.lossSinceReply) {
      const silentMs = this.silentSince(now);
      if (silentMs > this.c.longestOutageMs) this.c.longestOutageMs = silentMs;
    }
  }

  /** How long the session has heard nothing (since its last reply, or its first request). */
  private silentSince(now: number): number {
    return now - (this.c.lastReplyAt ?? this.c.firstSentAt ?? now);
  }
}
