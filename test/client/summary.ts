import t from 'tap';
import { Chalk } from 'chalk';
import { buildReport } from '../../client/report.js';
import { formatSocketErrors, summaryLines, targetSummary } from '../../client/summary.js';
import { sampleInput } from '../fixtures/client-report.js';

const plain = new Chalk({ level: 0 });

t.test('summaryLines() says which limit was broken and where the report is', async (t) => {
  const report = buildReport(sampleInput());
  const text = summaryLines(report, plain, 'out.json').join('\n');
  t.match(text, /4 sent, 3 answered \(0 late\), 1 lost = 25\.00%/);
  t.match(text, /FAIL: loss 25\.00% \(1 lost\) is above --max-loss 1%; 1 pod change/);
  t.match(text, /report +out\.json/);
  t.match(text, /pod-a \(node-1\): 1 sessions, 2 replies/);
  t.match(text, /\n {2}moves {11}1 expected, 0 violations \(inferred from the run: no cluster watch\)\n {2}address changes 0\n {2}stuck {11}none\n {2}breaks by pod {3}pod-a \(node-1\): 1 expected, 0 violations, 0 address changes, 0 stuck\n/);
  const { breaks: _, ...older } = buildReport(sampleInput());
  t.match(summaryLines(older, plain, undefined).join('\n'), /\n {2}pod changes {5}1\n {2}address changes 0\n/, 'a report from before the classifier shows the plain counts');
  const passing = buildReport({ ...sampleInput(), verdict: { passed: true, broken: [] }, verdictNote: 'demo note' });
  const passText = summaryLines(passing, plain, undefined).join('\n');
  t.match(passText, /PASS: within --max-loss 1%, --max-violations 0, --max-stuck 0, --max-pod-changes 0\n/, 'the optional limits only when set');
  t.match(passText, /demo note/);
});

t.test('summaryLines() says how many datagrams the kernel dropped on the client sockets, and warns when any were', async (t) => {
  const clean = summaryLines(buildReport(sampleInput()), plain, undefined).join('\n');
  t.match(clean, /0 dropped by the kernel on the client's sockets/);
  t.notMatch(clean, /receive buffer full/);
  const dropped = buildReport({ ...sampleInput(), clientSocketDrops: 7 });
  t.equal(dropped.clientSocketDrops, 7);
  t.match(summaryLines(dropped, plain, undefined).join('\n'), /the kernel dropped 7 datagrams on this client's sockets \(receive buffer full\)/);
  const unknown = buildReport({ ...sampleInput(), clientSocketDrops: undefined });
  t.equal(unknown.clientSocketDrops, null, 'null where /proc/net is not there');
  t.notMatch(summaryLines(unknown, plain, undefined).join('\n'), /dropped by the kernel/);
});

t.test('summaryLines() names socket errors by code and says plainly when no server listens at the target', async (t) => {
  const clean = summaryLines(buildReport(sampleInput()), plain, undefined);
  t.notOk(clean.some((l) => l.includes('socket errors') || l.includes('no server at')));
  const refused = summaryLines(buildReport({ ...sampleInput(), socketErrors: { ECONNREFUSED: 4 } }), plain, undefined);
  t.ok(refused.includes('  socket errors   ECONNREFUSED 4 (port unreachable)'));
  t.ok(refused.includes('no server at 127.0.0.1:3478: port unreachable on 4 of 4 requests'));
  t.equal(formatSocketErrors({ EHOSTUNREACH: 2, EPERM: 1 }), 'EHOSTUNREACH 2 (host unreachable), EPERM 1');
});

t.test('summaryLines() of a run over two targets names both in the heading and gives a line per target', async (t) => {
  const input = sampleInput();
  const half = (sessions: number) => ({ ...input.totals, sessions });
  const report = buildReport({
    ...input,
    targets: [
      { target: { host: '127.0.0.1', address: '127.0.0.1', port: 3478, family: 4, endpoint: '127.0.0.1:3478' }, totals: half(1), rtt: input.rtt },
      { target: { host: '::1', address: '::1', port: 3478, family: 6, endpoint: '[::1]:3478' }, totals: { ...half(1), lost: 0, podChanges: 0 }, rtt: input.rtt },
    ],
  });
  const lines = summaryLines(report, plain, undefined);
  t.match(lines[1], /, targets 127\.0\.0\.1:3478 and \[::1\]:3478\)$/);
  const byTarget = lines.filter((l) => /^ {2}(by target| {9}) {6} IPv/.test(l));
  t.same(byTarget, [`  by target       ${targetSummary(report.targets![0]!)}`, `                  ${targetSummary(report.targets![1]!)}`]);
  t.match(targetSummary(report.targets![1]!), /^IPv6 \[::1\]:3478: 1 sessions, 4 sent, 0 lost = 0%, 0 pod changes, 0 address changes, rtt p50 /);
  t.notOk(summaryLines(buildReport(input), plain, undefined).some((l) => l.includes('by target')), 'a single-target summary has no such line');
});
