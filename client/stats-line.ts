// The periodic stats line: what happened in the last period, the running totals, and where the
// sessions are now. It fits STATS_LINE_WIDTH columns: the pods go on the same line when they fit,
// else on a second line, shortened to the largest few.
import type { ChalkInstance } from 'chalk';
import type { BreakCounts } from './break-classifier.js';
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

export const STATS_LINE_WIDTH = 120;
/** Pods named on the stats line; the rest are counted ("and 7 more"). */
export const STATS_TOP_PODS = 4;

/** `pod-a 34, pod-b 33, pod-c 33`, the largest `top` then `and N more`; or `none yet`. */
export function formatDistribution(pods: readonly PodShare[], top = STATS_TOP_PODS): string {
  if (pods.length === 0) return 'none yet';
  const shown = pods.slice(0, top).map((p) => `${p.label} ${p.sessions}`)
    .join(', ');
  return pods.length > top ? `${shown} and ${pods.length - top} more` : shown;
}

const ms = formatMs;

/**
 * `changes 0`, or the breaks by class in few columns: `exp 3 viol 1 addr 2 stuck 1` (expected
 * moves, violations, address changes, and stuck sessions once there are any; `(1 now)` while one
 * is stuck), so the line keeps within 120 columns. The summary spells them out.
 */
export function formatBreaks(b: BreakCounts): string {
  if (b.expected + b.violations + b.addressChanges + b.stuck + b.undecided === 0) return 'changes 0';
  const stuck = b.stuck > 0 ? ` stuck ${b.stuck}${b.stuckNow > 0 ? ` (${b.stuckNow} now)` : ''}` : '';
  return `exp ${b.expected} viol ${b.violations}${b.undecided > 0 ? `+${b.undecided}?` : ''} addr ${b.addressChanges}${stuck}`;
}

/** One line, or two (the pods under the figures) when one would be wider than STATS_LINE_WIDTH. */
export function statsLine(s: StatsSnapshot, style: ChalkInstance): string {
  const t = s.totals;
  const p = s.period;
  // To the second: the stats line needs no milliseconds, and the columns are better spent on figures.
  const time = clockTime(s.time).slice(0, 8);
  const figures = [
    `${time} stats`,
    `sessions ${t.established}/${t.active}`,
    `sent +${p.sent} (${t.sent})`,
    `lost +${p.timedOut} (${t.lost}) ${formatPercent(lossPercent(t.lost, t.sent, t.pending))}`,
    `rtt p50 ${ms(s.rtt.p50Ms).replace(/ms$/, '')} p99 ${ms(s.rtt.p99Ms)}`,
    formatBreaks(s.breaks),
  ].join('  ');
  const pods = `pods: ${formatDistribution(s.pods)}`;
  const oneLine = `${figures}  ${pods}`;
  const text = oneLine.length <= STATS_LINE_WIDTH ? oneLine : `${figures}\n${' '.repeat(time.length + 1)}${pods}`;
  if (p.timedOut > 0 || p.podChanges + p.addressChanges > 0) return style.yellow(text);
  return t.podChanges + t.addressChanges > 0 ? text : style.green(text);
}

/** Under the stats line of a run over several targets: one target's running totals, indented. */
export function targetStatsLine(s: TargetTotals, style: ChalkInstance): string {
  const t = s.totals;
  const line =
    `           ${s.label}  sessions ${t.established} established / ${t.active} active  sent ${t.sent}  received ${t.received}  ` +
    `lost ${t.lost} ${formatPercent(lossPercent(t.lost, t.sent, t.pending))}  pod changes ${t.podChanges} address changes ${t.addressChanges}`;
  return t.lost > 0 || t.podChanges + t.addressChanges > 0 ? style.yellow(line) : line;
}
