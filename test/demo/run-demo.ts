import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoTimeline } from '../../demo/run-demo.js';
import type { ClientReport } from '../../client/report.js';
import { runMain } from '../fixtures/run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'demo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('demoTimeline() adds a pod at 30% and removes one at 55% of the run', async (t) => {
  t.same(demoTimeline(20_000), { addAtMs: 6000, removeAtMs: 11_000 });
});

t.test('affinity-tester demo shows established, pod added and removed, red changes, stats and a summary, and exits 0', async (t) => {
  const report = join(dir, 'demo.json');
  const result = await runMain(['demo', '--duration', '4s', '--stats-interval', '1s', '--sessions', '12', '--ramp', '500ms', '--report', report], {
    env: { HOME: dir, KUBECONFIG: undefined },
  });
  t.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  t.match(out, /demo: pod-a \(node-1\), pod-b \(node-2\), pod-c \(node-1\) serve on 127\.0\.0\.1 behind a demo UDP balancer/);
  t.equal(out.match(/ established: /g)?.length, 12);
  t.match(out, /demo: added pod-d \(node-2\)/);
  t.match(out, /demo: removed pod-b; the balancer forgot its \d+ flows/);
  t.match(out, /POD CHANGE pod-b \(node-2\) -> pod-[acd]/);
  t.match(out, /ADDRESS CHANGE 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+/);
  t.match(out, / stats  sessions 12\/12 /);
  t.match(out, /Summary \(finished after/);
  t.match(out, /these breaks were caused on purpose/);
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  t.equal(parsed.mode, 'demo');
  t.ok(parsed.totals.podChanges > 0);
  t.equal(parsed.totals.podChanges, parsed.totals.addressChanges);
  t.equal(parsed.totals.lost, 0);
  t.equal(parsed.verdict.passed, false);
  t.match(parsed.verdict.note, /on purpose/);
  t.ok(parsed.events.some((e) => e.type === 'pod-change' && e.from === 'pod-b'));
});
