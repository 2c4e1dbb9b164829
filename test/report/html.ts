import t from 'tap';
import { escapeHtml, MAX_BREAK_ROWS, renderHtml } from '../../report/html.js';
import { renderCharts } from '../../report/charts.js';
import { DEMO_REPORT, loadReport, marksOf } from '../fixtures/reports.js';

const report = loadReport(DEMO_REPORT);

t.test('renderHtml() of the recorded demo shows the verdict, the totals, 3 charts and 22 breaks', async (t) => {
  const html = renderHtml(report, await renderCharts(report));
  t.match(html, '<div class="verdict fail">FAIL: 11 pod changes (--max-pod-changes 0); 11 address changes (--max-address-changes 0)</div>');
  t.match(html, 'requests        1758 sent, 1758 answered (0 late), 0 lost = 0%', 'the summary lines the terminal printed');
  t.match(html, 'pod changes     11');
  t.match(html, '<h2>Breaks (22)</h2>');
  const breaks = html.slice(html.indexOf('<h2>Breaks'), html.indexOf('<h2>Pods'));
  t.equal((breaks.match(/<tr>/g) ?? []).length, 23, 'a header and 22 rows');
  t.equal((breaks.match(/<td>pod-change<\/td>/g) ?? []).length, 11);
  t.match(breaks, 'endpoint of pod-b removed (', 'each break names the cluster events just before it');
  const figures = [...html.matchAll(/<figure data-chart="([a-z]+)"[^>]*>\n(<svg.*?<\/svg>)\n<\/figure>/gs)];
  t.same(figures.map((f) => f[1]), ['timeline', 'pods', 'rtt']);
  for (const [, name, svg] of figures) t.ok(Object.keys(marksOf(svg!)).length >= 2, `${name} has marks`);
  const pods = html.slice(html.indexOf('<h2>Pods'), html.indexOf('<h2>Cluster'));
  t.match(pods, '<td>pod-c</td><td>node-1</td><td class="n">16</td><td class="n">848</td>');
});

t.test('renderHtml() loads nothing: no script, no stylesheet link, no URL but the SVG namespaces', async (t) => {
  const html = renderHtml(report, await renderCharts(report));
  t.notMatch(html, /<script|<link|@import|url\(/i);
  const urls = new Set(html.match(/https?:\/\/[^"' )]+/g));
  t.same([...urls].sort(), ['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
});

t.test('renderHtml() shows a break class and says why there are no charts without a timeline', async (t) => {
  const classified = { ...report, events: [{ ...report.events[0]!, class: 'violation', reason: 'pod-b still ready' }], eventsOmitted: 4 };
  const html = renderHtml(classified, undefined);
  t.match(html, '<td>violation: pod-b still ready</td>');
  t.match(html, '<h2>Breaks (5)</h2>');
  t.match(html, '<p>4 more breaks are counted in the totals but listed nowhere, not even in the JSON report.</p>');
  t.match(html, 'This report has no timeline');
});

t.test(`renderHtml() of thousands of breaks lists the first ${MAX_BREAK_ROWS} by time and keeps the exact count`, async (t) => {
  const first = report.events[0]!;
  const start = Date.parse(first.time);
  const events = Array.from({ length: 2500 }, (_, i) => ({ ...first, session: i + 1, time: new Date(start + i * 1000).toISOString() }));
  const attributions = [{ time: events[999]!.time, type: first.type, session: 1000, causes: [{ ...report.cluster.events[0]!, beforeMs: 2000 }] }];
  const html = renderHtml({ ...report, events, eventsOmitted: 7, cluster: { ...report.cluster, attributions } }, undefined);
  t.match(html, '<h2>Breaks (2507)</h2>');
  const breaks = html.slice(html.indexOf('<h2>Breaks'), html.indexOf('<h2>Pods'));
  t.equal((breaks.match(/<tr>/g) ?? []).length, MAX_BREAK_ROWS + 1, 'a header and the first rows');
  t.match(breaks, '<td class="n">1000</td>', 'the last listed is the 1000th by time');
  t.notMatch(breaks, '<td class="n">1001</td>');
  t.match(breaks, `${escapeHtml(report.cluster.events[0]!.text)} (2.00s before)`, 'its cluster events are found');
  t.match(breaks, '<p>The first 1000 breaks by time are listed; the 1500 later ones are in the JSON report (<code>affinity-tester report --json</code>).</p>');
  t.match(breaks, '<p>7 more breaks are counted in the totals but listed nowhere, not even in the JSON report.</p>');
});

t.test('renderHtml() of a passing run without breaks or a watch says so', async (t) => {
  const html = renderHtml({ ...report, verdict: { passed: true, broken: [] }, events: [], cluster: { watched: false, events: [], attributions: [] } }, undefined);
  t.match(html, '<div class="verdict pass">PASS</div>');
  t.match(html, 'No breaks:');
  t.match(html, 'did not watch the cluster');
});

t.test('escapeHtml() escapes markup in pod names and event texts', async (t) => {
  t.equal(escapeHtml(`<pod a="1">&'`), '&#60;pod a=&#34;1&#34;&#62;&#38;&#39;');
});
