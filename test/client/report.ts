import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { buildReport, reportEventOf, writeReport, type ReportInput } from '../../client/report.js';
import { Session } from '../../client/session.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { totalsOf, rttSummary } from '../../client/stats.js';
import { RttHistogram } from '../../client/rtt-histogram.js';
import { summaryLines } from '../../client/summary.js';
import { verdictOf } from '../../client/verdict.js';
import { attributionLine, clusterEventLine, formatMs, sessionEventLine } from '../../client/event-lines.js';
import type { SessionEvent } from '../../client/events.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });

function sampleInput(): ReportInput {
  const identities = new IdentityRegistry();
  const events: SessionEvent[] = [];
  const source = { address: '127.0.0.1', endpoint: '127.0.0.1:3478' };
  const sessions = [1, 2].map(
    (n) => new Session({ number: n, sessionId: n, timeoutMs: 1000, identities, emit: (e) => events.push(e), random: () => 1 }),
  );
  const [a, b] = sessions as [Session, Session];
  const response = (sessionId: number, seq: number, pod: string) => ({
    transactionId: encodeTransactionId(sessionId, seq, 1),
    podName: pod,
    nodeName: 'node-1',
    mappedAddress: { family: 4 as const, address: '203.0.113.7', port: 40000 + sessionId },
  });
  a.send(0);
  a.reply(response(1, 0, 'pod-a'), source, 1);
  a.send(1000);
  a.reply(response(1, 1, 'pod-b'), source, 1002);
  b.send(0);
  b.reply(response(2, 0, 'pod-a'), source, 2);
  b.send(1000);
  b.finish(2500);
  const totals = totalsOf(sessions);
  const rtt = new RttHistogram();
  rtt.record(1);
  rtt.record(2);
  const verdict = verdictOf({ lossPercent: 25, lost: 1, podChanges: 1, addressChanges: 0 }, { maxLoss: 1, maxPodChanges: 0, maxAddressChanges: 0 });
  return {
    mode: 'client',
    startedAt: Date.UTC(2026, 0, 1),
    endedAt: Date.UTC(2026, 0, 1) + 2500,
    interrupted: false,
    target: { host: 'localhost', address: '127.0.0.1', port: 3478 },
    settings: { sessions: 2, intervalMs: 1000, timeoutMs: 1000, rampMs: 0, payloadSize: 256, durationMs: 2500, limits: { maxLoss: 1, maxPodChanges: 0, maxAddressChanges: 0 } },
    verdict,
    totals,
    rtt: rttSummary(rtt),
    scheduling: { lagP50Ms: 0.1, lagP99Ms: 1, lagMaxMs: 2, skipped: 0 },
    clientSocketDrops: 0,
    socketErrors: {},
    sessions,
    localPorts: [50001, 50002],
    identities: identities.all(),
    events: events.filter((e) => e.type !== 'established').map((e) => reportEventOf(e as Exclude<SessionEvent, { type: 'established' }>)),
    eventsOmitted: 0,
    cluster: { watched: false, events: [], attributions: [] },
  };
}

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
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  const path = join(dir, 'r.json');
  t.equal(writeReport(path, buildReport(sampleInput())), undefined);
  t.equal(JSON.parse(readFileSync(path, 'utf8')).tool, 'affinity-tester');
  t.same(readdirSync(dir), ['r.json']);
  t.match(writeReport(join(dir, 'missing', 'r.json'), buildReport(sampleInput())), /^cannot write the report .*missing\/r\.json: ENOENT/, 'a reason, not a throw');
});

t.test('summaryLines() says which limit was broken and where the report is', async (t) => {
  const report = buildReport(sampleInput());
  const text = summaryLines(report, plain, 'out.json').join('\n');
  t.match(text, /4 sent, 3 answered \(0 late\), 1 lost = 25\.00%/);
  t.match(text, /FAIL: loss 25\.00% \(1 lost\) is above --max-loss 1%; 1 pod change/);
  t.match(text, /report +out\.json/);
  t.match(text, /pod-a \(node-1\): 1 sessions, 2 replies/);
  const passing = buildReport({ ...sampleInput(), verdict: { passed: true, broken: [] }, verdictNote: 'demo note' });
  const passText = summaryLines(passing, plain, undefined).join('\n');
  t.match(passText, /PASS: within --max-loss 1%/);
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

t.test('change lines are red on a colour terminal and plain otherwise', async (t) => {
  const identities = new IdentityRegistry();
  const change: SessionEvent = {
    type: 'pod-change',
    time: Date.UTC(2026, 0, 1, 9, 30, 0, 5),
    session: 3,
    from: identities.named('pod-a', 'node-1'),
    to: identities.named('pod-b', undefined),
    silentMs: 1500,
  };
  t.equal(sessionEventLine(change, plain), '09:30:00.005 session 3 POD CHANGE pod-a (node-1) -> pod-b (silent 1.50s)');
  t.match(sessionEventLine(change, colour), /^\u001b\[31m.*\u001b\[39m$/);
  const address: SessionEvent = { type: 'address-change', time: 0, session: 1, from: '[2001:db8::1]:1', to: '[2001:db8::1]:2', silentMs: 10 };
  t.match(sessionEventLine(address, plain), /ADDRESS CHANGE \[2001:db8::1\]:1 -> \[2001:db8::1\]:2 \(silent 10ms\)/);
  const plainStun = identities.unnamed('192.0.2.1', '192.0.2.1:3478', 'Coturn-4.6');
  const established: SessionEvent = { type: 'established', time: 0, session: 1, identity: plainStun, mapped: '203.0.113.7:1', rttMs: 0.5 };
  t.match(sessionEventLine(established, plain), /established: 192\.0\.2\.1:3478 \(Coturn-4\.6\), seen as 203\.0\.113\.7:1, rtt 0\.50ms/);
  const burst: SessionEvent = { type: 'loss-burst', time: 0, session: 1, consecutive: 3, silentMs: 3000 };
  t.match(sessionEventLine(burst, plain), /LOSS BURST: 3 requests in a row unanswered/);
  const cluster = { time: 1000, kind: 'endpoint-removed' as const, subject: '10.1.2.3', text: 'endpoint 10.1.2.3 (pod-b) removed' };
  t.equal(attributionLine(cluster, 1400, plain), '  ↳ endpoint 10.1.2.3 (pod-b) removed 400ms before');
  t.match(clusterEventLine(cluster, plain), /00:00:01\.000 cluster endpoint 10\.1\.2\.3 \(pod-b\) removed/);
  t.equal(formatMs(null), '-');
  t.equal(formatMs(55.55), '55.5ms');
});
