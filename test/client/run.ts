// End to end on loopback: the client (in-process runClient) against our server, over IPv4 and
// IPv6, through a relay that loses chosen datagrams, and against coturn; each reads the report.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import pino from 'pino';
import { startStunServer } from '../../server/udp-server.js';
import { runClient, type ClientRunOptions } from '../../client/run.js';
import { runExitCode } from '../../client/command.js';
import { resolveTarget } from '../../client/target.js';
import type { ClientReport } from '../../client/report.js';
import { TIMELINE_COUNTERS } from '../../client/timeline.js';
import { startLossyRelay } from '../fixtures/client-lossy-relay.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

// The runs are independent (each has its own server and ports): run them side by side.
t.jobs = 4;

const dir = makeTempDir('client-e2e-');
const silent = pino({ level: 'silent' });
const plain = new Chalk({ level: 0 });

async function run(t: Test, host: string, port: number, extra: Partial<ClientRunOptions> = {}) {
  const lines: string[] = [];
  const reportFile = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  const result = await runClient({
    target: await resolveTarget({ host, port }),
    sessions: 10,
    rampMs: 100,
    intervalMs: 50,
    timeoutMs: 1000,
    payloadSize: 256,
    durationMs: 1500,
    statsIntervalMs: 500,
    limits: { maxLoss: 1, maxViolations: 0, maxStuck: 0 },
    reportFile,
    write: (line) => lines.push(line),
    style: plain,
    ...extra,
  });
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ClientReport;
  t.same(report.totals, result.report.totals, 'the file holds the returned report');
  return { result, report, lines };
}

/** The timeline's seconds add up to the report's totals, and each second says who served how many sessions. */
function checkTimeline(t: Test, report: ClientReport): void {
  const buckets = report.timeline?.buckets ?? [];
  t.ok(buckets.length >= 1, `${buckets.length} timeline seconds`);
  for (const key of TIMELINE_COUNTERS) t.equal(buckets.reduce((n, b) => n + b[key], 0), report.totals[key], `the timeline's ${key} add up to the total`);
  t.ok(buckets.every((b) => b.seconds === 1 && Date.parse(b.at) % 1000 === 0), 'whole seconds');
  t.same(new Set(buckets.map((b) => b.at)).size, buckets.length, 'one bucket per second');
  t.same(buckets.at(-1)!.pods, Object.fromEntries(report.pods.filter((p) => p.sessions > 0).map((p) => [p.pod, p.sessions])), 'the last second has the final sessions per pod');
}

t.test('the client against our server over IPv4: every request answered, one pod, exit code 0', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-e2e', nodeName: 'node-e2e', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const { result, report, lines } = await run(t, '127.0.0.1', server.port);
  t.equal(runExitCode(result), 0);
  t.ok(report.totals.sent > 200, `${report.totals.sent} sent`);
  t.equal(report.totals.received, report.totals.sent);
  t.equal(report.totals.lost, 0);
  t.equal(report.pendingAtStop, 0, 'the planned end waits for replies in flight');
  t.same(
    report.pods.map((p) => [p.pod, p.node, p.sessions, p.replies]),
    [['pod-e2e', 'node-e2e', 10, report.totals.received]],
  );
  t.equal(report.sessions.length, 10);
  t.ok(report.sessions.every((s) => s.mappedAddress === `127.0.0.1:${s.localPort}`), 'reflective address is each socket');
  t.equal(lines.filter((l) => l.includes(' established: ')).length, 10, 'established once per session');
  t.ok(lines.some((l) => / stats .*pods: pod-e2e 10/.test(l)));
  t.match(lines.join('\n'), /PASS/);
  t.equal(server.counters.requests ?? report.totals.sent, report.totals.sent);
  checkTimeline(t, report);
  t.ok(report.timeline!.buckets.some((b) => b.rttP50Ms !== null && b.rttP99Ms! >= b.rttP50Ms), 'the seconds carry their RTT');
});

t.test('the client against our server over IPv6 (::1)', async (t) => {
  const server = await startStunServer({ host: '::1', port: 0, podName: 'pod-v6', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const { result, report, lines } = await run(t, '::1', server.port, { sessions: 4, durationMs: 800 });
  t.equal(runExitCode(result), 0);
  t.match(lines.join('\n'), `target [::1]:${server.port})`, 'the summary writes an IPv6 target in brackets');
  t.equal(report.target.address, '::1');
  t.equal(report.totals.lost, 0);
  t.ok(report.sessions.every((s) => s.mappedAddress === `[::1]:${s.localPort}`));
});

t.test('over two targets at once (127.0.0.1 and ::1): sessions alternate, each keeps its target, and every output shows each apart', async (t) => {
  const v4 = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-v4', logger: silent, summaryIntervalMs: 0 });
  const v6 = await startStunServer({ host: '::1', port: 0, podName: 'pod-v6', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => Promise.all([v4.close(), v6.close()]));
  const { result, report, lines } = await run(t, '127.0.0.1', v4.port, { sessions: 4, durationMs: 800, extraTargets: [await resolveTarget({ host: '::1', port: v6.port })] });
  t.equal(runExitCode(result), 0);
  const v4Endpoint = `127.0.0.1:${v4.port}`;
  const v6Endpoint = `[::1]:${v6.port}`;
  t.same(report.target, { host: '127.0.0.1', address: '127.0.0.1', port: v4.port }, 'target stays the first one');
  t.same(
    report.sessions.map((s) => [s.session, s.target, s.pod, s.mappedAddress]),
    [
      [1, v4Endpoint, 'pod-v4', `127.0.0.1:${report.sessions[0]!.localPort}`],
      [2, v6Endpoint, 'pod-v6', `[::1]:${report.sessions[1]!.localPort}`],
      [3, v4Endpoint, 'pod-v4', `127.0.0.1:${report.sessions[2]!.localPort}`],
      [4, v6Endpoint, 'pod-v6', `[::1]:${report.sessions[3]!.localPort}`],
    ],
  );
  const targets = report.targets!;
  t.same(
    targets.map((x) => [x.host, x.address, x.port, x.family, x.endpoint, x.totals.sessions, x.totals.podChanges, x.totals.addressChanges, x.totals.lost]),
    [
      ['127.0.0.1', '127.0.0.1', v4.port, 4, v4Endpoint, 2, 0, 0, 0],
      ['::1', '::1', v6.port, 6, v6Endpoint, 2, 0, 0, 0],
    ],
  );
  t.equal(targets[0]!.totals.sent + targets[1]!.totals.sent, report.totals.sent, 'the targets add up to the run');
  t.equal(targets[0]!.totals.received, v4.counters.requests, 'the IPv4 server answered exactly the IPv4 sessions');
  t.equal(targets[1]!.totals.received, v6.counters.requests);
  t.ok(targets.every((x) => x.totals.rtt.p50Ms !== null), 'each target has its own RTT');
  t.match(lines[0], `4 sessions -> ${v4Endpoint} and ${v6Endpoint}, split round robin, every 50ms`);
  t.ok(lines.some((l) => l.startsWith(`           IPv4 ${v4Endpoint}  sessions 2 established / 2 active  sent `)), 'a stats line per target');
  t.ok(lines.some((l) => l.startsWith(`           IPv6 ${v6Endpoint}  sessions 2 established / 2 active  sent `)));
  t.match(lines.join('\n'), `targets ${v4Endpoint} and ${v6Endpoint})`);
  t.match(lines.join('\n'), `  by target       IPv4 ${v4Endpoint}: 2 sessions, ${targets[0]!.totals.sent} sent, 0 lost = 0%, 0 pod changes, 0 address changes, rtt p50 `);
  t.match(lines.join('\n'), `                  IPv6 ${v6Endpoint}: 2 sessions, ${targets[1]!.totals.sent} sent, 0 lost = 0%, 0 pod changes`);
});

t.test('a single-target report has neither targets nor a target per session (the report of old)', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-one', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const { report, lines } = await run(t, '127.0.0.1', server.port, { sessions: 2, durationMs: 300 });
  t.equal(report.targets, undefined);
  t.ok(report.sessions.every((s) => !('target' in s)));
  t.notOk(lines.some((l) => l.includes('by target') || l.includes('round robin')));
});

t.test('through a lossy relay: loss is exact and split into lost requests and lost replies as they happened', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-l', logger: silent, summaryIntervalMs: 0 });
  const dropRequest = (seq: number): boolean => seq % 7 === 3;
  const dropReply = (seq: number): boolean => seq % 11 === 5;
  const relay = await startLossyRelay({ serverPort: server.port, dropRequest, dropReply });
  t.teardown(async () => {
    relay.close();
    await server.close();
  });
  const { result, report } = await run(t, '127.0.0.1', relay.port, { durationMs: 1000 });
  const dropped = relay.droppedRequests + relay.droppedReplies;
  t.ok(relay.droppedRequests > 10 && relay.droppedReplies > 10);
  t.equal(report.totals.lost, dropped, 'every dropped datagram is one lost request, nothing else');
  t.equal(report.totals.late, 0);
  t.equal(report.totals.received, report.totals.sent - dropped);
  t.equal(report.pendingAtStop, 0);
  // Losses after a session's last answered request have no later counter to compare with: they
  // stay unattributed. Everything else must be attributed exactly as the relay dropped it.
  let trailingRequests = 0;
  let trailingReplies = 0;
  for (const session of report.sessions) {
    for (let seq = session.sent - 1; seq >= 0 && (dropRequest(seq) || dropReply(seq)); seq--) {
      if (dropRequest(seq)) trailingRequests++;
      else trailingReplies++;
    }
  }
  t.equal(report.totals.lostRequests, relay.droppedRequests - trailingRequests, 'lost requests match the requests the relay dropped');
  t.equal(report.totals.lostReplies, relay.droppedReplies - trailingReplies, 'lost replies match the replies the relay dropped');
  t.equal(runExitCode(result), 1, 'loss above --max-loss 1%');
  t.match(result.report.verdict.broken[0], /above --max-loss 1%/);
  checkTimeline(t, report);
});

t.test('requests too small for the whole reply get a warning to raise --payload-size', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-with-a-long-name', nodeName: 'node-with-a-long-name', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const { report, lines } = await run(t, '127.0.0.1', server.port, { sessions: 2, durationMs: 300, payloadSize: 60 });
  t.equal(report.totals.lost, 0, 'replies still arrive, only shorter');
  t.equal(lines.filter((l) => /warning: the server cut its replies to fit 60-byte requests.*raise --payload-size/.test(l)).length, 1, 'warned once');
});

t.test('a target that never answers: everything lost, exit code 1, no pods', async (t) => {
  const silentPeer = createSocket('udp4');
  await new Promise<void>((r) => silentPeer.bind(0, '127.0.0.1', r));
  t.teardown(() => silentPeer.close());
  const { result, report, lines } = await run(t, '127.0.0.1', silentPeer.address().port, { sessions: 3, durationMs: 600, timeoutMs: 200 });
  t.equal(runExitCode(result), 1);
  t.equal(report.totals.received, 0);
  t.equal(report.totals.lost, report.totals.sent);
  t.equal(report.pods.length, 0);
  t.ok(lines.some((l) => l.includes('LOSS BURST')));
});

function turnserverPath(): string | undefined {
  return ['/usr/bin/turnserver', '/usr/local/bin/turnserver'].find((p) => existsSync(p));
}

const turnserver = turnserverPath();
t.test(
  'the client against coturn (turnserver --stun-only): identity falls back to source address and SOFTWARE',
  { skip: turnserver === undefined ? 'turnserver (Debian package coturn) is not installed' : false },
  async (t) => {
  const binary = turnserver!;
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  const port = probe.address().port;
  probe.close();
  const coturn = spawn(
    binary,
    ['--stun-only', '--listening-ip', '127.0.0.1', '--listening-port', String(port), '--no-cli', '--no-tls', '--no-dtls', '--log-file', 'stdout', '--simple-log'],
    { stdio: 'ignore' },
  );
  t.teardown(() => {
    coturn.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 700));
  const { result, report, lines } = await run(t, '127.0.0.1', port, { sessions: 5, durationMs: 1000 });
  t.equal(report.totals.lost, 0);
  t.ok(report.totals.received > 50);
  t.equal(report.totals.lostRequests + report.totals.lostReplies, 0);
  t.equal(report.pods.length, 1);
  t.equal(report.pods[0]!.pod, `127.0.0.1:${port}`);
  t.match(report.pods[0]!.software, /Coturn/i);
  t.ok(report.sessions.every((s) => s.mappedAddress === `127.0.0.1:${s.localPort}`));
  t.equal(runExitCode(result), 0);
  t.ok(lines.some((l) => /established: 127\.0\.0\.1:\d+ \(Coturn/i.test(l)));
  },
);

t.test('a closed port on loopback: the report counts ECONNREFUSED per request and the summary says no server is there', async (t) => {
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  const closedPort = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const { result, report, lines } = await run(t, '127.0.0.1', closedPort, { sessions: 2, durationMs: 300, timeoutMs: 100 });
  t.equal(runExitCode(result), 1);
  t.ok(report.totals.sent >= 4, `${report.totals.sent} sent`);
  t.equal(report.totals.lost, report.totals.sent, 'refused requests are still lost');
  t.strictSame(report.socketErrors, { ECONNREFUSED: report.totals.sent }, 'one port unreachable per request (loopback is not rate-limited)');
  t.ok(lines.includes(`  socket errors   ECONNREFUSED ${report.totals.sent} (port unreachable)`));
  t.ok(lines.includes(`no server at 127.0.0.1:${closedPort}: port unreachable on ${report.totals.sent} of ${report.totals.sent} requests`));
});
