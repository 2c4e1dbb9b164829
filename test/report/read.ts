import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseReport } from '../../report/read.js';
import { DEMO_REPORT } from '../fixtures/reports.js';

const text = readFileSync(DEMO_REPORT, 'utf8');

t.test('parseReport() accepts a recorded report', async (t) => {
  const parsed = parseReport(text);
  t.equal(parsed.ok && parsed.report.totals.sent, 1758);
});

t.test('parseReport() of a truncated file says it is not valid JSON', async (t) => {
  const parsed = parseReport(text.slice(0, 500));
  t.equal(parsed.ok, false);
  t.match(!parsed.ok && parsed.reason, /^not valid JSON \(/);
});

t.test('parseReport() of another tool or another version says which', async (t) => {
  t.same(parseReport('{"tool":"iperf"}'), { ok: false, reason: 'not an affinity-tester report' });
  t.same(parseReport('[1]'), { ok: false, reason: 'not an affinity-tester report' });
  t.same(parseReport(text, '9.9.9'), { ok: false, reason: 'written by affinity-tester 0.1.0, this is 9.9.9: render it with that version' });
});

t.test('parseReport() of a report with fields missing names them', async (t) => {
  const damaged = { ...JSON.parse(text), totals: null, events: {}, startedAt: 'yesterday', timeline: [] };
  t.same(parseReport(JSON.stringify(damaged)), { ok: false, reason: 'damaged report: totals, events, startedAt, timeline missing or malformed' });
});
