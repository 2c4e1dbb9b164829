import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoTimeline } from '../../demo/run-demo.js';
import type { ClientReport } from '../../client/report.js';
import { runMain } from '../fixtures/run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'demo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('demoTimeline() adds a pod at 20%, restarts the balancer at 35%, removes a pod at 50% and clears its stale flows at 85%', async (t) => {
  t.same(demoTimeline(25_000), { addAtMs: 5000, restartAtMs: 8750, removeAtMs: 12_500, clearAtMs: 21_250 });
});

t.test('affinity-tester demo shows every class: violations, expected moves, address changes, stuck and recovered sessions, grouped lines; FAIL, and exits 0', async (t) => {
  const report = join(dir, 'demo.json');
  const html = join(dir, 'demo.html');
  const result = await runMain(
    ['demo', '--duration', '10s', '--stats-interval', '2s', '--sessions', '40', '--ramp', '500ms', '--stuck-after', '1500ms', '--report', report, '--report-html', html],
    { env: { HOME: dir, KUBECONFIG: undefined } },
  );
  t.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  t.match(out, /demo: pod-a \(node-1\), pod-b \(node-2\), pod-c \(node-1\) serve on 127\.0\.0\.1 behind a demo UDP balancer/);
  t.equal(out.match(/ established: /g)?.length, 40);
  t.match(out, /cluster endpoint 127\.0\.0\.1:\d+ \(pod-d\) added/);
  t.match(out, /demo: added pod-d \(node-2\)/);
  t.match(out, /demo: the balancer restarted and forgot all its 40 flows while every pod stayed/);
  t.match(out, /POD CHANGE (pod-.) \(node-\d\) -> pod-. \(node-\d\) \(violation: \1 still ready; silent /);
  t.match(out, /\d+ sessions left pod-. \(still ready\): .*; violation/);
  t.match(out, /cluster endpoint 127\.0\.0\.1:\d+ \(pod-b\) removed/);
  t.match(out, /demo: removed pod-b; the balancer forgot \d+ of its flows .* It left [12] pointing at pod-b/);
  t.match(out, /POD CHANGE pod-b \(node-2\) -> pod-[acd] \(node-\d\) \(expected: pod-b removed \d+ms before; silent /);
  t.match(out, /ADDRESS CHANGE 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ \(with the move pod-. -> pod-.: re-balanced/);
  t.match(out, /STUCK on pod-b \(node-2\): unanswered for .* its pod pod-b was deleted .* a stale conntrack entry still sends it to the deleted pod/);
  t.match(out, /demo: cleared the [12] stale flows of pod-b/);
  t.match(out, /RECOVERED after .* stuck: answered by pod-[acd] \(node-\d\) \(moved from pod-b\)/);
  t.match(out, /POD CHANGE pod-b \(node-2\) -> pod-. \(node-\d\) \(expected: pod-b deleted .* before; silent .*; stuck /);
  t.match(out, / stats  sessions 40\/40 .* exp \d+ viol \d+ addr \d+/);
  t.match(out, /Summary \(finished after/);
  t.match(out, /\n {2}stuck {11}[12] sessions?, longest /);
  t.match(out, /FAIL: \d+ violations?: sessions moved off a pod still in the Service \(--max-violations 0\); [12] stuck sessions?: /);
  t.match(out, /these breaks were caused on purpose/);
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  t.equal(parsed.mode, 'demo');
  t.equal(parsed.verdict.passed, false);
  t.match(parsed.verdict.note, /why the verdict is FAIL/);
  const breaks = parsed.breaks!;
  t.equal(breaks.watched, true);
  t.ok(breaks.totals.violations > 0, 'the restart moved sessions off pods that stayed');
  t.ok(breaks.totals.expected > breaks.totals.stuck, 'pod-b removed: its sessions moved, stuck ones too once cleared');
  t.ok(breaks.totals.stuck >= 1 && breaks.totals.stuck <= 2);
  t.equal(breaks.totals.expected + breaks.totals.violations, parsed.totals.podChanges, 'every move classified');
  t.equal(breaks.totals.addressChanges, parsed.totals.addressChanges);
  t.ok(breaks.findings.every((f) => f.type !== 'move' || f.class === 'violation' || f.from === 'pod-b'), 'only moves off pod-b are expected');
  t.ok(breaks.findings.some((f) => f.type === 'stuck-end' && f.recovered === true));
  t.ok(breaks.groups.some((g) => g.class === 'violation'));
  t.equal(parsed.timeline!.buckets.reduce((n, b) => n + b.podChanges, 0), parsed.totals.podChanges, 'the timeline holds every pod change');
  t.match(out, `wrote ${html}: 3 charts, ${parsed.events.length} breaks`);
});
