// What a run shows, with a fake write, a fake clock, a fake event log and a fake cluster watch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Chalk, type ChalkInstance } from 'chalk';
import type { ClusterEvent, ClusterWatch } from '../../common/cluster-events.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { LOSS_BURST_LINES_PER_PERIOD, RunOutput, checkOutputsWritable, formatSetting, type EventLog } from '../../client/run-output.js';
import type { SessionEvent } from '../../client/events.js';
import { emptyBreakCounts, type BreakFinding, type MoveFinding } from '../../client/break-classifier.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { periodOf, totalsOf } from '../../client/stats.js';
import type { StatsSnapshot } from '../../client/stats-line.js';

const plain = new Chalk({ level: 0 });
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const identities = new IdentityRegistry();
const podA = identities.named('pod-a', 'node-1');
const podB = identities.named('pod-b', 'node-2');

function fakeWatch(events: ClusterEvent[]): ClusterWatch {
  return {
    eventsBefore: (time, limit, windowMs) => events.filter((e) => e.time <= time && e.time >= time - windowMs).reverse().slice(0, limit),
    events: () => [...events],
    podForIp: () => undefined,
    onEvent: () => undefined,
    close: async () => undefined,
  };
}

function setUp(options: { watch?: ClusterWatch; maxLossPercent?: number; style?: ChalkInstance } = {}) {
  const lines: string[] = [];
  const logged: [Record<string, unknown>, string][] = [];
  let flushed = 0;
  const eventLog: EventLog = { info: (fields, message) => logged.push([fields as Record<string, unknown>, message]), flush: () => flushed++ };
  let now = T0;
  const output = new RunOutput({ write: (line) => lines.push(line), style: options.style ?? plain, clock: () => now, eventLog, watch: options.watch, maxLossPercent: options.maxLossPercent ?? 1 });
  return { output, lines, logged, flushes: () => flushed, setNow: (ms: number) => (now = ms) };
}

const burst = (session: number, time = T0): SessionEvent => ({ type: 'loss-burst', time, session, consecutive: 3, silentMs: 3000 });

const NO_BREAKS = emptyBreakCounts();

function snapshot(time: number, sent: number, timedOut: number): StatsSnapshot {
  const totals = { ...totalsOf([]), sent, timedOut };
  return {
    time,
    totals,
    period: { sent, received: sent - timedOut, timedOut, late: 0, podChanges: 0, addressChanges: 0, lossPercent: sent === 0 ? 0 : (timedOut / sent) * 100 },
    rtt: { p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null },
    pods: [],
    breaks: NO_BREAKS,
  };
}

t.test('started() prints one line with the settings, stamped with the run clock', async (t) => {
  const { output, lines } = setUp();
  const target = { host: 'stun.example', address: '127.0.0.1', port: 3478, family: 4 as const, endpoint: '127.0.0.1:3478' };
  output.started({ target, sessions: 3, intervalMs: 1000, timeoutMs: 2000, rampMs: 250 }, 256);
  output.started({ mode: 'demo', target: { ...target, host: '127.0.0.1' }, sessions: 3, intervalMs: 500, timeoutMs: 1000, rampMs: 0, durationMs: 20_000 }, 60);
  t.strictSame(lines, [
    '09:00:00.000 client: 3 sessions -> 127.0.0.1:3478 (stun.example), every 1s, timeout 2s, ramp 250ms, until Ctrl-C, 256-byte requests (times UTC)',
    '09:00:00.000 demo client: 3 sessions -> 127.0.0.1:3478, every 500ms, timeout 1s, ramp 0s, for 20s, 60-byte requests (times UTC)',
  ]);
});

t.test('started() names every target of a run over several; stats() prints a line per target and logs their totals', async (t) => {
  const { output, lines, logged } = setUp();
  const target = { host: '203.0.113.1', address: '203.0.113.1', port: 3478, family: 4 as const, endpoint: '203.0.113.1:3478' };
  const v6 = { host: 'lb.example', address: '2001:db8::1', port: 3478, family: 6 as const, endpoint: '[2001:db8::1]:3478' };
  output.started({ target, extraTargets: [v6], sessions: 4, intervalMs: 1000, timeoutMs: 2000, rampMs: 0 }, 256);
  t.equal(lines[0], '09:00:00.000 client: 4 sessions -> 203.0.113.1:3478 and [2001:db8::1]:3478 (lb.example), split round robin, every 1s, timeout 2s, ramp 0s, until Ctrl-C, 256-byte requests (times UTC)');
  const totals = totalsOf([]);
  const targets = [{ label: 'IPv4 203.0.113.1:3478', totals }, { label: 'IPv6 [2001:db8::1]:3478', totals }];
  output.stats({ time: T0, totals, period: periodOf(totals, totals), rtt: { p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null }, pods: [], breaks: NO_BREAKS, targets }, { socketErrors: {}, schedulingLagP99Ms: null });
  t.same(lines.slice(2), [
    '           IPv4 203.0.113.1:3478  sessions 0 established / 0 active  sent 0  received 0  lost 0 0%  pod changes 0 address changes 0',
    '           IPv6 [2001:db8::1]:3478  sessions 0 established / 0 active  sent 0  received 0  lost 0 0%  pod changes 0 address changes 0',
  ]);
  t.same(logged.at(-1)![0].targets, targets);
});

t.test('session() prints established, logs every change as NDJSON and keeps it for the report; a pod change is printed once classified', async (t) => {
  const { output, lines, logged } = setUp();
  output.session({ type: 'established', time: T0, session: 1, identity: podA, mapped: '203.0.113.7:1', rttMs: 0.5 });
  output.session({ type: 'pod-change', time: T0 + 1000, session: 1, from: podA, to: podB, silentMs: 1500 });
  t.strictSame(lines, ['09:00:00.000 session 1 established: pod-a (node-1), seen as 203.0.113.7:1, rtt 0.50ms']);
  t.strictSame(
    logged.map(([fields]) => fields),
    [
      { event: 'established', at: T0, session: 1, pod: 'pod-a', node: 'node-1', mapped: '203.0.113.7:1', rttMs: 0.5 },
      { event: 'pod-change', at: T0 + 1000, session: 1, from: 'pod-a', fromNode: 'node-1', to: 'pod-b', toNode: 'node-2', silentMs: 1500 },
    ],
  );
  t.equal(logged[1]![1], '09:00:01.000 session 1 POD CHANGE pod-a (node-1) -> pod-b (node-2) (silent 1.50s)', 'the raw event keeps its own message');
  t.strictSame(output.reportEvents, [
    { time: '2026-01-01T09:00:01.000Z', type: 'pod-change', session: 1, silentMs: 1500, from: 'pod-a', to: 'pod-b', fromNode: 'node-1', toNode: 'node-2' },
  ]);
});

t.test(`session() prints ${LOSS_BURST_LINES_PER_PERIOD} loss bursts a period, and stats() counts the rest in one line`, async (t) => {
  const { output, lines, logged } = setUp();
  for (let i = 1; i <= LOSS_BURST_LINES_PER_PERIOD + 4; i++) output.session(burst(i));
  t.equal(lines.length, LOSS_BURST_LINES_PER_PERIOD);
  t.equal(logged.length, LOSS_BURST_LINES_PER_PERIOD + 4, 'every one is in the NDJSON log');
  t.equal(output.reportEvents.length, LOSS_BURST_LINES_PER_PERIOD + 4, 'and in the report');
  output.stats(snapshot(T0 + 10_000, 0, 0), { socketErrors: {}, schedulingLagP99Ms: null });
  t.equal(lines[LOSS_BURST_LINES_PER_PERIOD], '09:00:10.000 ... and 4 more loss bursts in this period (all of them are in the report and --events)');
  output.session(burst(1));
  t.equal(lines.at(-1), '09:00:00.000 session 1 LOSS BURST: 3 requests in a row unanswered (silent 3.00s)', 'a new period prints again');
});

t.test('an address change prints the cluster events before it with their exact gap on the run clock, newest first; a pod change keeps them for the report only', async (t) => {
  const events: ClusterEvent[] = [
    { time: T0 - 60_000, kind: 'pod-added', subject: 'pod-z', text: 'pod-z added' },
    { time: T0 + 600, kind: 'endpoint-removed', subject: '10.1.2.3', text: 'endpoint 10.1.2.3 (pod-a) removed' },
    { time: T0 + 900, kind: 'pod-terminating', subject: 'pod-a', text: 'pod-a Terminating' },
  ];
  const { output, lines } = setUp({ watch: fakeWatch(events) });
  output.session({ type: 'pod-change', time: T0 + 1000, session: 2, from: podA, to: podB, silentMs: 200 });
  t.strictSame(lines, [], "the move's classified line names the cause that decided it");
  output.session({ type: 'address-change', time: T0 + 1000, session: 2, from: '203.0.113.7:1', to: '203.0.113.7:2', silentMs: 200 });
  t.strictSame(lines, ['  ↳ pod-a Terminating 100ms before', '  ↳ endpoint 10.1.2.3 (pod-a) removed 400ms before'], 'the event 61 s before is outside the window');
  t.strictSame(output.attributions.map((a) => a.type), ['pod-change', 'address-change']);
  t.strictSame(output.attributions.slice(0, 1), [
    {
      time: '2026-01-01T09:00:01.000Z',
      type: 'pod-change',
      session: 2,
      causes: [
        { time: '2026-01-01T09:00:00.900Z', kind: 'pod-terminating', subject: 'pod-a', text: 'pod-a Terminating', beforeMs: 100 },
        { time: '2026-01-01T09:00:00.600Z', kind: 'endpoint-removed', subject: '10.1.2.3', text: 'endpoint 10.1.2.3 (pod-a) removed', beforeMs: 400 },
      ],
    },
  ]);
});

t.test('a loss burst held back by the throttle is still attributed, without printing its causes', async (t) => {
  const events: ClusterEvent[] = [{ time: T0 - 100, kind: 'node-not-ready', subject: 'n', text: 'node n became NotReady' }];
  const { output, lines } = setUp({ watch: fakeWatch(events) });
  for (let i = 1; i <= LOSS_BURST_LINES_PER_PERIOD + 1; i++) output.session(burst(i));
  t.equal(lines.length, LOSS_BURST_LINES_PER_PERIOD * 2, 'each shown burst with its cause line');
  t.equal(output.attributions.length, LOSS_BURST_LINES_PER_PERIOD + 1);
});

t.test('stats() prints the period loss above --max-loss with its cluster events, and logs the stats with the socket error count', async (t) => {
  const events: ClusterEvent[] = [{ time: T0 + 9_500, kind: 'endpoint-removed', subject: 'e', text: 'endpoint e removed' }];
  const { output, lines, logged } = setUp({ watch: fakeWatch(events), maxLossPercent: 5 });
  output.stats(snapshot(T0 + 10_000, 100, 10), { socketErrors: { ECONNREFUSED: 3, EHOSTUNREACH: 1 }, schedulingLagP99Ms: 0.25 });
  t.match(lines[0], /^09:00:10 stats {2}sessions 0\/0 /);
  t.equal(lines[1], "09:00:10.000 LOSS BURST: 10.00% of the last period's requests timed out (--max-loss 5%)");
  t.equal(lines[2], '  ↳ endpoint e removed 500ms before');
  t.match(logged[0]![0], { event: 'stats', at: T0 + 10_000, socketErrors: 4, schedulingLagP99Ms: 0.25, breaks: { violations: 0, stuck: 0 } });
  t.strictSame(output.attributions.map((a) => [a.type, a.session]), [['period-loss', null]]);
  output.stats(snapshot(T0 + 20_000, 100, 5), { socketErrors: {}, schedulingLagP99Ms: null });
  t.equal(lines.length, 4, 'at --max-loss exactly: only the stats line');
});

const podC = identities.named('pod-c', 'node-1');
const move = (session: number, time: number, moveClass: 'expected' | 'violation', to = podC): MoveFinding => ({
  type: 'move',
  time,
  session,
  from: podB,
  to,
  silentMs: 500,
  class: moveClass,
  rule: moveClass === 'expected' ? 'watch-departed' : 'watch-still-ready',
  confidence: 'high',
  reason: moveClass === 'expected' ? 'removed 400ms before' : 'still ready',
  evidence: moveClass === 'expected' ? 'pod-b removed 400ms before' : 'pod-b still ready',
  decidedAt: time,
});

t.test('breakFinding() prints every kind with its class, violations, address changes and stuck red, expected moves and recoveries yellow', async (t) => {
  const colour = new Chalk({ level: 1 });
  const { output, lines, logged } = setUp({ style: colour });
  const findings: BreakFinding[] = [
    move(1, T0 + 1000, 'expected'),
    move(2, T0 + 1000, 'violation'),
    { type: 'address-change', time: T0 + 1000, session: 3, from: '203.0.113.7:1', to: '203.0.113.7:2', silentMs: 0, class: 'same-pod', pod: podA, evidence: 'same pod pod-a: a NAT rebinding on the way' },
    { type: 'stuck', time: T0 + 6000, session: 4, since: T0, pod: podB, cause: 'its pod pod-b was removed 5.00s ago and the session never moved' },
    { type: 'stuck-end', time: T0 + 8000, session: 4, since: T0, durationMs: 8000, recovered: true, pod: podB, to: podC, cause: 'c' },
    { type: 'stuck-end', time: T0 + 9000, session: 5, since: T0, durationMs: 9000, recovered: false, pod: podB, cause: 'its pod pod-b was removed' },
  ];
  for (const finding of findings) output.breakFinding(finding);
  t.strictSame(lines, [
    colour.yellow('09:00:01.000 session 1 POD CHANGE pod-b (node-2) -> pod-c (node-1) (expected: pod-b removed 400ms before; silent 500ms)'),
    colour.red('09:00:01.000 session 2 POD CHANGE pod-b (node-2) -> pod-c (node-1) (violation: pod-b still ready; silent 500ms)'),
    colour.red('09:00:01.000 session 3 ADDRESS CHANGE 203.0.113.7:1 -> 203.0.113.7:2 (same pod pod-a: a NAT rebinding on the way; silent 0ms)'),
    colour.red(
      '09:00:06.000 session 4 STUCK on pod-b (node-2): unanswered for 6.00s since 09:00:00.000 while the Service answers other sessions; its pod pod-b was removed 5.00s ago and the session never moved',
    ),
    colour.yellow('09:00:08.000 session 4 RECOVERED after 8.00s stuck: answered by pod-c (node-1) (moved from pod-b)'),
    colour.red('09:00:09.000 session 5 still STUCK at the end, for 9.00s since 09:00:00.000; its pod pod-b was removed'),
  ]);
  t.strictSame(
    logged.map(([fields]) => [fields.event, fields.at, fields.type, fields.session]),
    findings.map((f) => ['break', f.time, f.type, f.session]),
    'each finding goes to the NDJSON log as a break record',
  );
  t.equal(logged[1]![1], '09:00:01.000 session 2 POD CHANGE pod-b (node-2) -> pod-c (node-1) (violation: pod-b still ready; silent 500ms)', 'without colour');
  t.match(logged[1]![0], { class: 'violation', rule: 'watch-still-ready', from: 'pod-b', to: 'pod-c', evidence: 'pod-b still ready' });
  t.strictSame(
    output.breakFindings.map((r) => [r.type, r.session]),
    findings.map((f) => [f.type, f.session]),
    'and to the report',
  );
  t.equal(output.findingsOmitted, 0);
});

t.test('breakTick() prints a grouped line once a pod\'s moves have stopped for a second; breakEnd() prints the groups still open', async (t) => {
  const { output, lines, logged } = setUp();
  output.breakFinding(move(1, T0 + 1000, 'expected'));
  output.breakFinding(move(2, T0 + 1200, 'expected', podA));
  output.breakFinding(move(3, T0 + 1300, 'expected'));
  output.breakFinding(move(4, T0 + 1300, 'violation'));
  lines.length = 0;
  output.breakTick(T0 + 2300);
  t.strictSame(lines, [], 'within a second of the last move');
  output.breakTick(T0 + 2301);
  t.strictSame(lines, ['09:00:01.000 3 sessions left pod-b (removed 400ms before): pod-a 1, pod-c 2; expected'], 'a single violation is no group');
  t.match(logged.at(-1)![0], { event: 'break-group', at: T0 + 1000, from: 'pod-b', class: 'expected', sessions: 3, to: [{ pod: 'pod-a', sessions: 1 }, { pod: 'pod-c', sessions: 2 }] });
  output.breakFinding(move(5, T0 + 5000, 'violation'));
  output.breakFinding(move(6, T0 + 5100, 'violation'));
  lines.length = 0;
  output.breakEnd();
  t.strictSame(lines, ['09:00:05.000 2 sessions left pod-b (still ready): pod-c 2; violation']);
  t.strictSame(output.breakGroups.map((g) => [g.class, g.sessions]), [['expected', 3], ['violation', 2]]);
});

t.test('reply() warns once when the server cut its replies to the request size', async (t) => {
  const { output, lines } = setUp();
  const transactionId = encodeTransactionId(1, 0, 0);
  output.reply({ transactionId, sessionRequestCount: 1, software: 'affinity-tester' }, 60);
  t.strictSame(lines, [], 'SOFTWARE present: not cut');
  output.reply({ transactionId }, 60);
  t.strictSame(lines, [], 'no counter: a plain STUN server, nothing to say');
  output.reply({ transactionId, sessionRequestCount: 1 }, 60);
  output.reply({ transactionId, sessionRequestCount: 2 }, 60);
  t.strictSame(lines, ['warning: the server cut its replies to fit 60-byte requests, so some lack the pod, node or counter; raise --payload-size']);
});

t.test('draining() says how long it waits only when replies are in flight and the wait is noticeable', async (t) => {
  const { output, lines, setNow } = setUp();
  setNow(T0 + 5000);
  output.draining(0, 2000);
  output.draining(3, 500);
  output.draining(3, 2000);
  t.strictSame(lines, ['09:00:05.000 waiting up to 2s (--timeout) for 3 replies in flight']);
});

t.test('cluster() prints a dim line and logs the event; internalError() says which listener failed', async (t) => {
  const { output, lines, logged } = setUp();
  output.cluster({ time: T0, kind: 'pod-ready', subject: 'pod-a', text: 'pod-a became Ready' });
  output.internalError(new Error('boom'), 'session');
  t.strictSame(lines, ['09:00:00.000 cluster pod-a became Ready', 'internal error in a session listener: boom']);
  t.strictSame(logged, [[{ event: 'cluster', at: T0, kind: 'pod-ready', subject: 'pod-a' }, 'pod-a became Ready']]);
});

t.test('connectionLost(), reconnected(), connectionStep() and gaveUp() print the TCP lines and log each as an NDJSON event, like a UDP break', async (t) => {
  const colour = new Chalk({ level: 1 });
  const { output, lines, logged } = setUp({ style: colour });
  output.connectionLost(4, { time: T0, pod: 'pod-a', end: 'reset' });
  output.connectionLost(5, { time: T0, pod: undefined, end: 'timeout' });
  output.reconnected(4, { time: T0 + 250, downMs: 250, from: 'pod-a', to: 'pod-b', moved: true });
  output.reconnected(5, { time: T0 + 300, downMs: 300, from: undefined, to: 'pod-a', moved: false });
  output.connectionStep({ time: T0 + 1000, open: { 'pod-a': 1, 'pod-b': 1 }, lost: { 'pod-a': 1 }, reconnected: { 'pod-b': 1 } });
  output.gaveUp(6, { time: T0 + 5000, attempts: 10, lastLoss: { time: T0 + 1200, pod: 'pod-c', end: 'closed' } });
  t.strictSame(lines, [
    colour.red('09:00:00.000 session 4 connection lost on pod-a: reset by peer'),
    colour.red('09:00:00.000 session 5 connection lost on no pod yet: no answer within --timeout while open'),
    `09:00:00.250 session 4 reconnected after 250ms ${colour.red('on another pod: pod-a -> pod-b')}`,
    '09:00:00.300 session 5 reconnected after 300ms on pod-a',
    colour.yellow('09:00:01.000 connections open pod-a 1 | pod-b 1  lost pod-a 1  reconnected pod-b 1'),
    colour.red('09:00:05.000 session 6 GAVE UP after 10 reconnect attempts in a row: down 3.80s, last on pod-c'),
  ]);
  t.strictSame(logged, [
    [{ event: 'connection-lost', at: T0, session: 4, pod: 'pod-a', end: 'reset' }, '09:00:00.000 session 4 connection lost on pod-a: reset by peer'],
    [{ event: 'connection-lost', at: T0, session: 5, pod: null, end: 'timeout' }, '09:00:00.000 session 5 connection lost on no pod yet: no answer within --timeout while open'],
    [{ event: 'reconnected', at: T0 + 250, session: 4, downMs: 250, from: 'pod-a', to: 'pod-b', moved: true }, '09:00:00.250 session 4 reconnected after 250ms on another pod: pod-a -> pod-b'],
    [{ event: 'reconnected', at: T0 + 300, session: 5, downMs: 300, from: null, to: 'pod-a', moved: false }, '09:00:00.300 session 5 reconnected after 300ms on pod-a'],
    [
      { event: 'connections', at: T0 + 1000, open: { 'pod-a': 1, 'pod-b': 1 }, lost: { 'pod-a': 1 }, reconnected: { 'pod-b': 1 } },
      '09:00:01.000 connections open pod-a 1 | pod-b 1  lost pod-a 1  reconnected pod-b 1',
    ],
    [
      { event: 'gave-up', at: T0 + 5000, session: 6, attempts: 10, pod: 'pod-c', downMs: 3800 },
      '09:00:05.000 session 6 GAVE UP after 10 reconnect attempts in a row: down 3.80s, last on pod-c',
    ],
  ]);
});

t.test('formatSetting() writes a setting as people type it', async (t) => {
  t.equal(formatSetting(2000), '2s');
  t.equal(formatSetting(250), '250ms');
  t.equal(formatSetting(1500), '1500ms');
});

t.test('checkOutputsWritable() passes files it can create and names the flag of one it cannot, before the run starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-output-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.doesNotThrow(() => checkOutputsWritable({ reportFile: join(dir, 'r.json'), eventsFile: join(dir, 'e.ndjson'), htmlFile: join(dir, 'r.html') }));
  t.doesNotThrow(() => checkOutputsWritable({}), 'no files, nothing to check');
  t.throws(() => checkOutputsWritable({ reportFile: join(dir, 'r.json'), eventsFile: dir }), {
    name: 'SetupError',
    kind: 'output-unwritable',
    message: `cannot write --events ${dir}: it is a directory`,
  });
  t.throws(() => checkOutputsWritable({ htmlFile: join(dir, 'missing', 'r.html') }), {
    name: 'SetupError',
    kind: 'output-unwritable',
    message: `cannot write --report-html ${join(dir, 'missing', 'r.html')}: its directory does not exist or is not writable`,
  });
});
