import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, totalsForReport, writeReport } from '../../client/report.js';
import { sampleInput } from '../fixtures/client-report.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

t.test('buildReport() totals use exactly the documented names', async (t) => {
  const report = buildReport(sampleInput());
  t.same(Object.keys(report.totals), [
    'sessions',
    'sent',
    'received',
    'lost',
    'late',
    'duplicates',
    'reordered',
    'lostRequests',
    'lostReplies',
    'podChanges',
    'addressChanges',
    'lossPercent',
    'rtt',
    'longestOutageMs',
  ]);
  t.same(Object.keys(report.totals.rtt), ['p50Ms', 'p90Ms', 'p99Ms', 'maxMs']);
  t.equal(report.totals.sent, 4);
  t.equal(report.totals.received, 3);
  t.equal(report.totals.lost, 1);
  t.equal(report.totals.lossPercent, 25);
  t.equal(report.totals.podChanges, 1);
  t.equal(report.totals.longestOutageMs, 2498);
});

t.test('buildReport() lists sessions and replies per pod, per-session figures and every change with its time', async (t) => {
  const report = buildReport(sampleInput());
  t.same(
    report.pods.map((p) => [p.pod, p.node, p.sessions, p.replies]),
    [
      ['pod-a', 'node-1', 1, 2],
      ['pod-b', 'node-1', 1, 1],
    ],
  );
  t.equal(report.sessions.length, 2);
  t.match(report.sessions[0], { session: 1, sessionId: '000000000001', localPort: 50001, sent: 2, received: 2, pod: 'pod-b', podChanges: 1 });
  t.match(report.sessions[1], { session: 2, lost: 1, pendingAtStop: 0, mappedAddress: '203.0.113.7:40002' });
  t.equal(report.events.length, 1);
  t.match(report.events[0], { type: 'pod-change', session: 1, from: 'pod-a', to: 'pod-b', time: '1970-01-01T00:00:01.002Z' });
  t.same(report.cluster, { watched: false, events: [], attributions: [] });
});

t.test('writeReport() leaves a complete JSON file and no temporary file', async (t) => {
  const dir = makeTempDir('report-');
  const path = join(dir, 'r.json');
  t.equal(writeReport(path, buildReport(sampleInput())), undefined);
  t.equal(JSON.parse(readFileSync(path, 'utf8')).tool, 'affinity-tester');
  t.same(readdirSync(dir), ['r.json']);
  t.match(writeReport(join(dir, 'missing', 'r.json'), buildReport(sampleInput())), /^cannot write the report .*missing\/r\.json: ENOENT/, 'a reason, not a throw');
});

t.test('buildReport() records the settings under their report names and the socket errors by code', async (t) => {
  const report = buildReport({ ...sampleInput(), socketErrors: { ECONNREFUSED: 4 } });
  t.strictSame(report.settings, {
    sessions: 2,
    intervalMs: 1000,
    timeoutMs: 1000,
    rampMs: 0,
    payloadSize: 256,
    durationMs: 2500,
    maxLossPercent: 1,
    maxViolations: 0,
    maxStuck: 0,
    stuckAfterMs: 5000,
    maxPodChanges: 0,
    maxAddressChanges: null,
  });
  t.strictSame(report.socketErrors, { ECONNREFUSED: 4 });
  t.equal(buildReport({ ...sampleInput(), settings: { ...sampleInput().settings, durationMs: undefined } }).settings.durationMs, null, 'null until Ctrl-C');
});

t.test('buildReport() of a run over two targets adds targets with their totals and each session\'s target; one target adds neither', async (t) => {
  const input = sampleInput();
  const v4 = { host: '127.0.0.1', address: '127.0.0.1', port: 3478, family: 4 as const, endpoint: '127.0.0.1:3478' };
  const v6 = { host: '::1', address: '::1', port: 3478, family: 6 as const, endpoint: '[::1]:3478' };
  const report = buildReport({ ...input, targets: [{ target: v4, totals: input.totals, rtt: input.rtt }, { target: v6, totals: { ...input.totals, pending: 2 }, rtt: input.rtt }] });
  t.same(report.targets, [
    { ...v4, totals: totalsForReport(input.totals, input.rtt), pendingAtStop: input.totals.pending },
    { ...v6, totals: totalsForReport({ ...input.totals, pending: 2 }, input.rtt), pendingAtStop: 2 },
  ]);
  t.same(report.sessions.map((s) => s.target), ['127.0.0.1:3478', '[::1]:3478'], 'sessions alternate');
  const single = buildReport({ ...input, targets: [{ target: v4, totals: input.totals, rtt: input.rtt }] });
  t.equal(single.targets, undefined);
  t.same(Object.keys(single), Object.keys(buildReport(input)), 'the report of one target keeps its keys');
  t.ok(single.sessions.every((s) => !('target' in s)));
});
