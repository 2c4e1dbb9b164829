// One self-contained HTML page for a report: the verdict and the summary at the top (the very
// lines the terminal printed, from client/summary.ts, so page and screen never disagree), the
// charts inlined as SVG, and tables of the breaks, the pods and the cluster events. No script,
// no stylesheet, no font is fetched: the page opens the same offline and attached to a ticket.
import { Chalk } from 'chalk';
import { formatDuration } from '../common/duration.js';
import { clockTime } from '../client/event-lines.js';
import type { Attribution, ClientReport, ReportEvent } from '../client/report.js';
import { summaryLines } from '../client/summary.js';
import type { ChartName } from './charts.js';

const plain = new Chalk({ level: 0 });

/** What the affinity-verdict work adds to a break; shown when present. */
type ClassifiedEvent = ReportEvent & { class?: string; reason?: string };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1040px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #555; }
.verdict { font-size: 18px; font-weight: 600; padding: 8px 12px; border-radius: 4px; margin: 12px 0; }
.pass { background: #e3f4e1; color: #1d5e1a; } .fail { background: #fbe3e2; color: #8a1c17; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
table { border-collapse: collapse; font-size: 12px; } td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 16px; } figure svg { max-width: 100%; height: auto; }
`;

function table(headers: string[], rows: string[][], numeric: ReadonlySet<number> = new Set()): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell, i) => `<td${numeric.has(i) ? ' class="n"' : ''}>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

/**
 * Rows of the breaks table at most. A merged run of 100,000 sessions can have tens of thousands
 * of breaks; a page with that many rows takes seconds to lay out and cannot be read anyway. The
 * heading keeps the exact count and the JSON report lists them all.
 */
export const MAX_BREAK_ROWS = 1000;

const attributionKey = (a: { session: number | null; type: string; time: string }): string => `${a.session} ${a.type} ${a.time}`;

function causesText(attribution: Attribution | undefined): string {
  if (attribution === undefined) return '';
  return attribution.causes.map((c) => `${escapeHtml(c.text)} (${formatDuration(c.beforeMs)} before)`).join('<br>');
}

/** The first MAX_BREAK_ROWS breaks by time (a report's events are in time order; merging sorts them). */
function breaksTable(report: ClientReport): string {
  if (report.events.length === 0 && report.eventsOmitted === 0) return '<p>No breaks: no session changed pod or address, and none lost several requests in a row.</p>';
  const attributions = new Map<string, Attribution>();
  for (const a of report.cluster.attributions) if (!attributions.has(attributionKey(a))) attributions.set(attributionKey(a), a);
  const shown = report.events.slice(0, MAX_BREAK_ROWS);
  const rows = shown.map((e: ClassifiedEvent) => [
    clockTime(Date.parse(e.time)),
    escapeHtml(e.type),
    String(e.session),
    escapeHtml(e.type === 'loss-burst' ? `${e.consecutive ?? ''} in a row` : `${e.from ?? ''} → ${e.to ?? ''}`),
    formatDuration(e.silentMs),
    escapeHtml([e.class, e.reason].filter(Boolean).join(': ')),
    causesText(attributions.get(attributionKey(e))),
  ]);
  const notes: string[] = [];
  const later = report.events.length - shown.length;
  if (later > 0) notes.push(`<p>The first ${shown.length} breaks by time are listed; the ${later} later ones are in the JSON report (<code>affinity-tester report --json</code>).</p>`);
  if (report.eventsOmitted > 0) notes.push(`<p>${report.eventsOmitted} more breaks are counted in the totals but listed nowhere, not even in the JSON report.</p>`);
  const listed = rows.length === 0 ? '' : table(['time (UTC)', 'break', 'session', 'what', 'silent', 'class', 'cluster events just before'], rows, new Set([2, 4]));
  return [listed, ...notes].filter(Boolean).join('\n');
}

function mergedSection(report: ClientReport): string {
  if (report.merged === undefined) return '';
  const rows = report.merged.reports.map((r) => [escapeHtml(r.file), r.startedAt, r.endedAt, String(r.sessions), String(r.firstSession)]);
  const differences = report.merged.differences.length === 0 ? '<p>The reports agree on their settings and target.</p>' : `<ul>${report.merged.differences.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>`;
  return `<h2>Merged from ${report.merged.reports.length} reports</h2>\n${table(['file', 'started', 'ended', 'sessions', 'first session number'], rows, new Set([3, 4]))}\n${differences}`;
}

const CHART_TITLES: Record<ChartName, string> = {
  timeline: 'Timeline',
  pods: 'Sessions per pod',
  rtt: 'Round-trip time',
};

export function renderHtml(report: ClientReport, charts: Record<ChartName, string> | undefined): string {
  const title = `affinity-tester ${report.mode} report, ${report.startedAt.slice(0, 19).replace('T', ' ')} UTC`;
  const verdict = report.verdict.passed
    ? `<div class="verdict pass">PASS</div>`
    : `<div class="verdict fail">FAIL: ${escapeHtml(report.verdict.broken.join('; '))}</div>`;
  const chartsHtml =
    charts === undefined
      ? '<p>This report has no timeline (it was written before affinity-tester recorded one), so there are no charts.</p>'
      : (Object.keys(CHART_TITLES) as ChartName[])
          .map((name) => `<figure data-chart="${name}" aria-label="${CHART_TITLES[name]}">\n${charts[name]}\n</figure>`)
          .join('\n');
  const coarse = report.timeline?.buckets.some((b) => b.seconds > 1)
    ? '<p class="meta">Seconds older than the last hour of the run are drawn as 10 s, 60 s or 600 s buckets (rates per second, RTT p99 the worst second).</p>'
    : '';
  const pods = table(
    ['pod', 'node', 'sessions at the end', 'replies'],
    report.pods.map((p) => [escapeHtml(p.pod), escapeHtml(p.node ?? ''), String(p.sessions), String(p.replies)]),
    new Set([2, 3]),
  );
  const cluster = report.cluster.watched
    ? report.cluster.events.length === 0
      ? '<p>The cluster watch saw no change.</p>'
      : table(['time (UTC)', 'kind', 'subject', 'what'], report.cluster.events.map((e) => [clockTime(Date.parse(e.time)), escapeHtml(e.kind), escapeHtml(e.subject), escapeHtml(e.text)]))
    : '<p>The run did not watch the cluster (no --watch).</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="meta">affinity-tester ${escapeHtml(report.version)}, ${formatDuration(report.durationMs)} from ${escapeHtml(report.startedAt)} to ${escapeHtml(report.endedAt)}</div>
${verdict}
<pre id="summary">${escapeHtml(summaryLines(report, plain, undefined).join('\n').trim())}</pre>
${mergedSection(report)}
<h2>Over time</h2>
${coarse}
${chartsHtml}
<h2>Breaks (${report.events.length + report.eventsOmitted})</h2>
${breaksTable(report)}
<h2>Pods</h2>
${pods}
<h2>Cluster events</h2>
${cluster}
</body>
</html>
`;
}
