// The human lines about TCP connections: one when a connection is lost, one when it comes back
// (and where), one per stats tick with the connections per pod, and the summary's rows.
import type { ChalkInstance } from 'chalk';
import { formatDuration } from '../common/duration.js';
import { clockTime, formatMs } from './event-lines.js';
import type { ConnectionLoss, GiveUp, Reconnection } from './connection-state.js';
import type { ConnectionStep } from './connection-table.js';
import type { ReportConnections } from './connection-report.js';

const END_TEXT = { reset: 'reset by peer', closed: 'closed by the server', timeout: 'no answer within --timeout while open', error: 'socket error' } as const;

export function connectionLossLine(session: number, loss: ConnectionLoss, style: ChalkInstance): string {
  return style.red(`${clockTime(loss.time)} session ${session} connection lost on ${loss.pod ?? 'no pod yet'}: ${END_TEXT[loss.end]}`);
}

export function reconnectionLine(session: number, r: Reconnection, style: ChalkInstance): string {
  const where = r.moved ? style.red(`on another pod: ${r.from} -> ${r.to}`) : `on ${r.to}${r.from === undefined ? '' : ' again'}`;
  return `${clockTime(r.time)} session ${session} reconnected after ${formatMs(r.downMs)} ${where}`;
}

/** `session 17 GAVE UP after 10 reconnect attempts in a row: down 51.2s, last on pod-b`, or with --no-reconnect `stays down (--no-reconnect)`. */
export function giveUpLine(session: number, g: GiveUp, style: ChalkInstance): string {
  const why = g.attempts === 0 ? 'stays down (--no-reconnect)' : `GAVE UP after ${g.attempts} reconnect attempts in a row`;
  const since = g.lastLoss === undefined ? 'no connection ever answered' : `down ${formatMs(g.time - g.lastLoss.time)}, last on ${g.lastLoss.pod ?? 'no pod yet'}`;
  return style.red(`${clockTime(g.time)} session ${session} ${why}: ${since}`);
}

const perPod = (counts: Record<string, number>): string =>
  Object.keys(counts).length === 0
    ? 'none'
    : Object.entries(counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([pod, n]) => `${pod} ${n}`)
        .join(' | ');

/** `12:00:01 connections open pod-a 50 | pod-b 50  lost pod-a 2  reconnected pod-b 2`. */
export function connectionStepLine(step: ConnectionStep, style: ChalkInstance): string {
  const line = `${clockTime(step.time)} connections open ${perPod(step.open)}  lost ${perPod(step.lost)}  reconnected ${perPod(step.reconnected)}`;
  return Object.keys(step.lost).length > 0 ? style.yellow(line) : line;
}

export function connectionSummaryLines(c: ReportConnections): string[] {
  const t = c.totals;
  const lines = [
    `  connections     ${t.served} served, ${t.lost} lost (${t.lostBy.reset} reset, ${t.lostBy.closed} closed by the server, ${t.lostBy.timeout} timed out, ${t.lostBy.error} errors), ` +
      `${t.reconnected} reconnected (${t.moved} on another pod), ${t.refused} attempts refused or never answered${t.gaveUp > 0 ? `, ${t.gaveUp} sessions gave up` : ''}`,
    `  down            ${t.lost === 0 ? 'never' : `${formatDuration(t.downMs)} in all, longest ${formatDuration(t.longestDownMs)}`}`,
  ];
  for (const row of c.pods) lines.push(`    ${row.pod.padEnd(24)} lost ${row.lost}  reconnected here ${row.landed} (${row.movedIn} from another pod)`);
  if (c.retransmissions !== null) {
    lines.push(`  retransmissions ${c.retransmissions.retransSegs} TCP segments on this host during the run${c.retransmissions.timeouts === null ? '' : ` (${c.retransmissions.timeouts} retransmission timeouts)`}`);
  }
  return lines;
}
