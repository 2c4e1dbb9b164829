// What the report says about TCP connections: totals, the per-pod table, the steps at each stats
// tick, each session's connection figures, and the host's retransmissions. Built once at the end
// from the connection states and table; the summary and stats lines are views of the same figures.
import { emptyConnectionCounters, type ConnectionCounters, type ConnectionEnd, type ConnectionState } from './connection-state.js';
import type { ConnectionPodRow, ConnectionTable } from './connection-table.js';
import type { Session } from './session.js';

export interface ReportConnectionTotals extends ConnectionCounters {
  /** Sessions that stopped reconnecting (--no-reconnect, or --reconnect-attempts reached). */
  gaveUp: number;
}

export interface ReportConnections {
  totals: ReportConnectionTotals;
  pods: ConnectionPodRow[];
  /** Per stats tick: open connections per pod, and those lost and reconnected since the tick before. */
  steps: { time: string; open: Record<string, number>; lost: Record<string, number>; reconnected: Record<string, number> }[];
  /** Sessions with any connection lost, refused or given up; the others held one connection throughout. */
  sessions: ({ session: number; gaveUp: boolean } & ConnectionCounters)[];
  /** The host's TCP retransmissions during the run (Linux /proc/net/snmp, /proc/net/netstat); null elsewhere. */
  retransmissions: { retransSegs: number; timeouts: number | null } | null;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function connectionReportOf(input: {
  sessions: readonly Session[];
  states: readonly ConnectionState[];
  table: ConnectionTable;
  retransmissions: ReportConnections['retransmissions'];
}): ReportConnections {
  const totals: ReportConnectionTotals = { ...emptyConnectionCounters(), gaveUp: 0 };
  const sessions: ReportConnections['sessions'] = [];
  input.states.forEach((state, i) => {
    const c = state.counters;
    const gaveUp = state.phase === 'given-up';
    totals.served += c.served;
    totals.lost += c.lost;
    for (const end of Object.keys(c.lostBy) as ConnectionEnd[]) totals.lostBy[end] += c.lostBy[end];
    totals.refused += c.refused;
    totals.reconnected += c.reconnected;
    totals.moved += c.moved;
    totals.downMs += c.downMs;
    totals.longestDownMs = Math.max(totals.longestDownMs, c.longestDownMs);
    if (gaveUp) totals.gaveUp++;
    if (c.lost > 0 || c.refused > 0 || gaveUp) {
      sessions.push({ session: input.sessions[i]!.number, gaveUp, ...c, lostBy: { ...c.lostBy }, downMs: round3(c.downMs), longestDownMs: round3(c.longestDownMs) });
    }
  });
  totals.downMs = round3(totals.downMs);
  totals.longestDownMs = round3(totals.longestDownMs);
  return {
    totals,
    pods: input.table.pods(),
    steps: input.table.steps.map((s) => ({ time: new Date(s.time).toISOString(), open: s.open, lost: s.lost, reconnected: s.reconnected })),
    sessions,
    retransmissions: input.retransmissions,
  };
}
