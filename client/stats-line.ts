// The periodic stats line: what happened in the last period, the running totals, and where the
// sessions are now.
import type { ChalkInstance } from 'chalk';
import type { BreakCounts } from './break-classifier.js';
import { breakCountsPart } from './break-lines.js';
import { clockTime, formatMs } from './event-lines.js';
import type { PeriodFigures, PodShare, RttSummary, Totals } from './stats.js';
import { lossPercent } from './stats.js';
import { formatPercent } from './verdict.js';

export interface StatsSnapshot {
  time: number;
  totals: Totals;
  period: PeriodFigures;
  /** RTT of the replies received in this period. */
  rtt: RttSummary;
  pods: PodShare[];
  /** The classified breaks so far. */
  breaks: BreakCounts;
  /** A run over several targets: each target's running totals (`label` as targetLabel gives it). */
  targets?: readonly TargetTotals[];
}

export interface TargetTotals {
  label: string;
  totals: Totals;
}

/** `pod-a 34 | pod-b 33 | pod-c 33`, or `none yet`. */
export function formatDistribution(pods: readonly PodShare[]): string {
  return pods.length === 0 ? 'none yet' : pods.map((p) => `${p.label} ${p.sessions}`).join(' | ');
}

const ms = formatMs;

export function statsLine(s: StatsSnapshot, style: ChalkInstance): string {
  const t = s.totals;
  const p = s.period;
  const totalLoss = lossPercent(t.lost, t.sent, t.pending);
  const changes = t.podChanges + t.addressChanges;
  const parts = [
    `${clockTime(s.time)} stats`,
    `sessions ${t.established} established / ${t.active} active`,
    `sent +${p.sent} (${t.sent})`,
    `received +${p.received} (${t.received})`,
    `lost +${p.timedOut} (${t.lost}) ${formatPercent(totalLoss)}`,
    `rtt p50 ${ms(s.rtt.p50Ms)} p99 ${ms(s.rtt.p99Ms)}`,
    breakCountsPart(s.breaks),
    `pods: ${formatDistribution(s.pods)}`,
  ];
  const line = parts.join('  ');
  if (p.timedOut > 0 || p.podChanges + p.addressChanges > 0) return style.yellow(line);
  return changes > 0 ? line : style.green(line);
}

/** Under the stats line of a run over several targets: one target's running totals, indented. */
export function targetStatsLine(s: TargetTotals, style: ChalkInstance): string {
  const t = s.totals;
  const line =
    `           ${s.label}  sessions ${t.established} established / ${t.active} active  sent ${t.sent}  received ${t.received}  ` +
    `lost ${t.lost} ${formatPercent(lossPercent(t.lost, t.sent, t.pending))}  pod changes ${t.podChanges} address changes ${t.addressChanges}`;
  return t.lost > 0 || t.podChanges + t.addressChanges > 0 ? style.yellow(line) : line;
}
