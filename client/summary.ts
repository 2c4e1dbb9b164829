// The final human summary, from the report (so the screen and the file never disagree).
import type { ChalkInstance } from 'chalk';
import { formatDuration } from '../common/duration.js';
import { formatEndpoint } from '../common/ip-address.js';
import { breakSummaryLines } from './break-lines.js';
import { formatMs } from './event-lines.js';
import type { ClientReport, ReportTarget } from './report.js';
import { targetLabel } from './target-groups.js';
import { formatPercent, limitsText } from './verdict.js';
import { connectionSummaryLines } from './connection-lines.js';

const ms = formatMs;

/** What the ICMP errors a connected UDP socket reports mean (RFC 792 destination unreachable). */
const SOCKET_ERROR_MEANINGS: Record<string, string> = {
  ECONNREFUSED: 'port unreachable',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** `ECONNREFUSED 4 (port unreachable), EHOSTUNREACH 1 (host unreachable)`. */
export function formatSocketErrors(errors: Readonly<Record<string, number>>): string {
  return Object.entries(errors)
    .map(([code, count]) => `${code} ${count}${SOCKET_ERROR_MEANINGS[code] ? ` (${SOCKET_ERROR_MEANINGS[code]})` : ''}`)
    .join(', ');
}

/** `IPv6 [2001:db8::1]:3478: 50 sessions, 500 sent, 2 lost = 0.4%, 3 pod changes, 0 address changes, rtt p50 1.2ms`. */
export function targetSummary(target: ReportTarget): string {
  const t = target.totals;
  return (
    `${targetLabel(target)}: ${t.sessions} sessions, ${t.sent} sent, ${t.lost} lost = ${formatPercent(t.lossPercent)}, ` +
    `${t.podChanges} pod changes, ${t.addressChanges} address changes, rtt p50 ${ms(t.rtt.p50Ms)}`
  );
}

export function summaryLines(report: ClientReport, style: ChalkInstance, reportPath: string | undefined): string[] {
  const t = report.totals;
  const unattributed = t.lost - t.lostRequests - t.lostReplies;
  const where = report.targets
    ? `targets ${report.targets.map((target) => formatEndpoint(target.host, target.port)).join(' and ')}`
    : `target ${formatEndpoint(report.target.host, report.target.port)}`;
  const lines = [
    '',
    style.bold(`Summary (${report.interrupted ? 'interrupted' : 'finished'} after ${formatDuration(report.durationMs)}, ${where}${report.protocol === 'tcp' ? ' over TCP' : ''})`),
    `  sessions        ${t.sessions}`,
    `  requests        ${t.sent} sent, ${t.received} answered (${t.late} late), ${t.lost} lost = ${formatPercent(t.lossPercent)}`,
    `  lost            ${t.lostRequests} requests, ${t.lostReplies} replies${unattributed > 0 ? `, ${unattributed} unattributed (no server counter, or the pod changed)` : ''}`,
    `  oddities        ${t.duplicates} duplicates, ${t.reordered} reordered, ${report.ignored} ignored datagrams` +
      (report.clientSocketDrops === null ? '' : `, ${report.clientSocketDrops} dropped by the kernel on the client's sockets`),
    `  rtt             p50 ${ms(t.rtt.p50Ms)}  p90 ${ms(t.rtt.p90Ms)}  p99 ${ms(t.rtt.p99Ms)}  max ${ms(t.rtt.maxMs)}`,
    `  longest outage  ${t.longestOutageMs > 0 ? formatDuration(t.longestOutageMs) : 'none'}`,
    // A report from before the classifier (read by `affinity-tester report`) has the plain counts only.
    ...(report.breaks === undefined
      ? [`  pod changes     ${t.podChanges}`, `  address changes ${t.addressChanges}`]
      : breakSummaryLines(report.breaks.totals, report.breaks.pods, report.breaks.watched)),
    ...(report.targets ?? []).map((target, i) => `  ${i === 0 ? 'by target      ' : '               '} ${targetSummary(target)}`),
    `  pods            ${report.pods.length === 0 ? 'none answered' : report.pods.map((p) => `${p.pod}${p.node ? ` (${p.node})` : ''}: ${p.sessions} sessions, ${p.replies} replies`).join('; ')}`,
  ];
  if (report.connections !== undefined) lines.push(...connectionSummaryLines(report.connections));
  if (report.pendingAtStop > 0) {
    lines.push(`  pending         ${report.pendingAtStop} requests were still within their timeout at the stop: not counted lost`);
  }
  if (report.clientSocketDrops !== null && report.clientSocketDrops > 0) {
    lines.push(
      style.yellow(
        `  note            the kernel dropped ${report.clientSocketDrops} datagrams on this client's sockets (receive buffer full): they count as lost here although the network delivered them`,
      ),
    );
  }
  if (report.scheduling.lagP99Ms !== null && report.scheduling.lagP99Ms > 100) {
    lines.push(style.yellow(`  note            this client sent late (scheduling lag p99 ${ms(report.scheduling.lagP99Ms)}): it may be overloaded`));
  }
  if (Object.keys(report.socketErrors).length > 0) lines.push(`  socket errors   ${formatSocketErrors(report.socketErrors)}`);
  const refused = report.socketErrors.ECONNREFUSED ?? 0;
  if (refused > 0) {
    // The target's host answered with ICMP port unreachable: nothing listens there.
    const at = formatEndpoint(report.target.address, report.target.port);
    lines.push(style.red(`no server at ${at}: port unreachable on ${refused} of ${t.sent} requests`));
  }
  if (report.cluster.attributions.length > 0) {
    lines.push(`  cluster         ${report.cluster.events.length} cluster events, ${report.cluster.attributions.length} breaks with cluster events just before them`);
  }
  if (reportPath !== undefined) lines.push(`  report          ${reportPath}`);
  if (report.verdict.passed) {
    const { settings } = report;
    const limits = {
      maxLoss: settings.maxLossPercent,
      maxViolations: settings.maxViolations,
      maxStuck: settings.maxStuck,
      ...(settings.maxPodChanges === null ? {} : { maxPodChanges: settings.maxPodChanges }),
      ...(settings.maxAddressChanges === null ? {} : { maxAddressChanges: settings.maxAddressChanges }),
    };
    lines.push(style.green(`PASS: within ${limitsText(limits)}`));
  } else {
    lines.push(style.red(`FAIL: ${report.verdict.broken.join('; ')}`));
  }
  if (report.verdict.note) lines.push(report.verdict.note);
  return lines;
}
