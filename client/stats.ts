// Aggregation over sessions, pure: totals for the whole run, the figures of one period (the
// difference of two totals), and how sessions are spread over pods.
import { RttHistogram } from './rtt-histogram.js';
import type { Session } from './session.js';

export interface Totals {
  sessions: number;
  /** Sessions that have sent their first request (the ramp has reached them). */
  active: number;
  /** Sessions that have had at least one reply. */
  established: number;
  sent: number;
  received: number;
  /** Never answered (a late answer moves a request from lost to late). */
  lost: number;
  /** Requests that reached their timeout, late ones included: grows monotonically. */
  timedOut: number;
  late: number;
  duplicates: number;
  reordered: number;
  lostRequests: number;
  lostReplies: number;
  podChanges: number;
  addressChanges: number;
  lossBursts: number;
  /** Sent but still within their timeout: neither answered nor lost yet. */
  pending: number;
  /** Datagrams that were not replies to our requests (or too old to track). */
  ignored: number;
  longestOutageMs: number;
}

/** What the totals read of a session (a Session, or a plain record in tests). */
export type SessionFigures = Pick<Session, 'counters' | 'lost' | 'pending' | 'identity'>;

export function totalsOf(sessions: readonly SessionFigures[]): Totals {
  const t: Totals = {
    sessions: sessions.length,
    active: 0,
    established: 0,
    sent: 0,
    received: 0,
    lost: 0,
    timedOut: 0,
    late: 0,
    duplicates: 0,
    reordered: 0,
    lostRequests: 0,
    lostReplies: 0,
    podChanges: 0,
    addressChanges: 0,
    lossBursts: 0,
    pending: 0,
    ignored: 0,
    longestOutageMs: 0,
  };
  for (const session of sessions) {
    const s = session.counters;
    if (s.firstSentAt !== undefined) t.active++;
    if (s.establishedAt !== undefined) t.established++;
    t.sent += s.sent;
    t.received += s.received;
    t.lost += session.lost;
    t.timedOut += s.timedOut;
    t.late += s.late;
    t.duplicates += s.duplicates;
    t.reordered += s.reordered;
    t.lostRequests += s.lostRequests;
    t.lostReplies += s.lostReplies;
    t.podChanges += s.podChanges;
    t.addressChanges += s.addressChanges;
    t.lossBursts += s.lossBursts;
    t.pending += session.pending;
    t.ignored += s.ignored;
    if (s.longestOutageMs > t.longestOutageMs) t.longestOutageMs = s.longestOutageMs;
  }
  return t;
}

/**
 * Lost as a percentage of the requests whose fate is known: pending requests (still within their
 * timeout) are neither lost nor answered yet, so they are left out of the denominator.
 */
export function lossPercent(lost: number, sent: number, pending: number): number {
  const settled = sent - pending;
  return settled <= 0 ? 0 : (lost / settled) * 100;
}

/** What happened between two totals. */
export interface PeriodFigures {
  sent: number;
  received: number;
  /** Requests that reached their timeout in this period (some may still be answered late). */
  timedOut: number;
  late: number;
  podChanges: number;
  addressChanges: number;
  /** timedOut / sent in this period, in percent. */
  lossPercent: number;
}

export function periodOf(current: Totals, previous: Totals): PeriodFigures {
  const sent = current.sent - previous.sent;
  const timedOut = current.timedOut - previous.timedOut;
  return {
    sent,
    received: current.received - previous.received,
    timedOut,
    late: current.late - previous.late,
    podChanges: current.podChanges - previous.podChanges,
    addressChanges: current.addressChanges - previous.addressChanges,
    lossPercent: sent <= 0 ? 0 : (timedOut / sent) * 100,
  };
}

export interface PodShare {
  label: string;
  node?: string;
  /** Sessions whose latest reply came from this pod. */
  sessions: number;
}

/** Sessions per serving pod (by their latest in-order reply), largest first, then by name. */
export function podDistribution(sessions: readonly Pick<SessionFigures, 'identity'>[]): PodShare[] {
  const shares = new Map<string, PodShare>();
  for (const { identity } of sessions) {
    if (identity === undefined) continue;
    const share = shares.get(identity.key);
    if (share === undefined) shares.set(identity.key, { label: identity.label, node: identity.node, sessions: 1 });
    else share.sessions++;
  }
  return [...shares.values()].sort((a, b) => b.sessions - a.sessions || a.label.localeCompare(b.label));
}

export interface RttSummary {
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Milliseconds to the microsecond for the report; null when there is no figure. */
export function roundMs(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 1000) / 1000;
}

export function rttSummary(histogram: RttHistogram): RttSummary {
  return {
    p50Ms: roundMs(histogram.percentile(50)),
    p90Ms: roundMs(histogram.percentile(90)),
    p99Ms: roundMs(histogram.percentile(99)),
    maxMs: histogram.count === 0 ? null : roundMs(histogram.max),
  };
}

/** Keeps the previous totals and a period histogram, so each stats tick reports its own period. */
export class PeriodTracker {
  readonly total = new RttHistogram();
  readonly period = new RttHistogram();
  private previous: Totals | undefined;

  recordRtt(ms: number): void {
    this.total.record(ms);
    this.period.record(ms);
  }

  /** The period since the last call, and starts a new one. */
  next(current: Totals): { period: PeriodFigures; rtt: RttSummary } {
    const period = periodOf(current, this.previous ?? totalsOf([]));
    const rtt = rttSummary(this.period);
    this.previous = current;
    this.period.reset();
    return { period, rtt };
  }
}
