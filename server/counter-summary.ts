// What the server's log lines say about its counters: the totals (at shutdown, and in each
// periodic summary) and the rates since the previous summary. Pure, with the elapsed time passed
// in, so the rates are exact in a test and follow the clock rather than the timer's nominal period.
import type { DropReason } from './responder.js';
import type { ServerCounters } from './udp-server.js';

export interface CounterTotals {
  requests: number;
  replies: number;
  /** Drops by reason, only the reasons that happened. */
  drops: Partial<Record<DropReason, number>>;
  sendBacklogDrops: number;
}

export interface CounterSummary extends CounterTotals {
  requestsPerSecond: number;
  repliesPerSecond: number;
}

/** A copy of the live counters, as a log line carries them. */
export function totalsOf(counters: ServerCounters): CounterTotals {
  const drops: Partial<Record<DropReason, number>> = {};
  for (const [reason, count] of Object.entries(counters.drops) as [DropReason, number][]) if (count > 0) drops[reason] = count;
  return { requests: counters.requests, replies: counters.replies, drops, sendBacklogDrops: counters.sendBacklogDrops };
}

/** `current` with the request and reply rates since `previous`, `elapsedMs` earlier (whole numbers a second). */
export function summaryOf(previous: CounterTotals, current: CounterTotals, elapsedMs: number): CounterSummary {
  const perSecond = (delta: number): number => (elapsedMs > 0 ? Math.round((delta * 1000) / elapsedMs) : 0);
  return {
    ...current,
    requestsPerSecond: perSecond(current.requests - previous.requests),
    repliesPerSecond: perSecond(current.replies - previous.replies),
  };
}
