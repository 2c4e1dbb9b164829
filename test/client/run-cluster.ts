// The cluster watch integration with a fake ClusterWatch: no Kubernetes needed.
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import pino from 'pino';
import type { ClusterEvent, ClusterWatch, PodIdentity } from '../../common/cluster-events.js';
import { startStunServer, type RunningStunServer } from '../../server/udp-server.js';
import { DemoBalancer } from '../../demo/balancer.js';
import { monotonicClock as clock } from '../../common/clock.js';
import { runClient } from '../../client/run.js';
import { runExitCode } from '../../client/command.js';
import type { ClientReport } from '../../client/report.js';
import type { StuckRecord } from '../../client/break-records.js';
import { discoverTargets, kubeconfigAvailable, startWatch } from '../../client/kube-integration.js';
import { watchWanted } from '../../client/command.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

class FakeClusterWatch implements ClusterWatch {
  readonly seen: ClusterEvent[] = [];
  private listeners: ((event: ClusterEvent) => void)[] = [];
  closed = false;
  constructor(private readonly pods: Record<string, PodIdentity> = {}) {}
  add(event: ClusterEvent): void {
    this.seen.push(event);
    for (const listener of this.listeners) listener(event);
  }
  eventsBefore(time: number, limit: number, windowMs: number): ClusterEvent[] {
    return this.seen
      .filter((e) => e.time <= time && e.time >= time - windowMs)
      .reverse()
      .slice(0, limit);
  }
  events(): ClusterEvent[] {
    return [...this.seen];
  }
  podForIp(ip: string): PodIdentity | undefined {
    return this.pods[ip];
  }
  onEvent(listener: (event: ClusterEvent) => void): void {
    this.listeners.push(listener);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

t.test('an endpoint removal moves its sessions as expected moves, with the cluster events under their address changes; the verdict is PASS', async (t) => {
  const silent = pino({ level: 'silent' });
  const a = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a', nodeName: 'node-1', logger: silent, summaryIntervalMs: 0 });
  const b = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-b', nodeName: 'node-2', logger: silent, summaryIntervalMs: 0 });
  const balancer = await DemoBalancer.start({
    backends: [
      { name: 'pod-a', address: '127.0.0.1', port: a.port },
      { name: 'pod-b', address: '127.0.0.1', port: b.port },
    ],
  });
  t.teardown(async () => {
    balancer.close();
    await Promise.all([a.close(), b.close()]);
  });
  const watch = new FakeClusterWatch();
  const lines: string[] = [];
  const reportFile = join(makeTempDir('client-cluster-'), 'report.json');
  const result = await runClient({
    target: { host: '127.0.0.1', address: '127.0.0.1', port: balancer.port, family: 4, endpoint: `127.0.0.1:${balancer.port}` },
    sessions: 8,
    rampMs: 50,
    intervalMs: 50,
    timeoutMs: 300,
    payloadSize: 256,
    durationMs: 1200,
    statsIntervalMs: 10_000,
    limits: { maxLoss: 1, maxViolations: 0, maxStuck: 0 },
    reportFile,
    write: (line) => lines.push(line),
    style: new Chalk({ level: 0 }),
    watch,
    clock,
    onReady: () => {
      setTimeout(() => {
        // Which pod loses its flows depends on the hash: remove the one that has some.
        const victim = (balancer.flowsPerBackend().get('pod-a') ?? 0) > 0 ? 'pod-a' : 'pod-b';
        watch.add({ time: clock() - 400, kind: 'endpoint-removed', subject: '10.1.2.3', text: `endpoint 10.1.2.3 (${victim}) removed`, pod: victim });
        watch.add({ time: clock() - 100, kind: 'pod-terminating', subject: victim, text: `${victim} Terminating` });
        balancer.removeBackend(victim);
      }, 500);
    },
  });
  const text = lines.join('\n');
  t.match(text, /cluster endpoint 10\.1\.2\.3 \(pod-.\) removed/, 'cluster events are logged as they arrive');
  const changeAt = lines.findIndex((l) => l.includes('POD CHANGE'));
  t.ok(changeAt > 0, 'a pod change happened');
  t.match(lines[changeAt], /POD CHANGE (pod-.) \(node-\d\) -> pod-. \(node-\d\) \(expected: \1 terminating \d+ms before; silent /, 'classified at once by the latest departure');
  t.match(lines[changeAt + 1], /ADDRESS CHANGE .* \(with the move pod-. -> pod-.: re-balanced through another node or SNAT; silent /);
  t.match(lines[changeAt + 2], /^ {2}↳ pod-. Terminating \d+ms before$/, 'newest cluster event first, under the red address line');
  t.match(lines[changeAt + 3], /^ {2}↳ endpoint 10\.1\.2\.3 \(pod-.\) removed \d+ms before$/);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ClientReport;
  t.equal(report.cluster?.watched, true);
  t.equal(report.cluster?.events.length, 2);
  t.ok(report.cluster!.attributions.length >= report.totals.podChanges, 'every pod change is attributed');
  const first = report.cluster!.attributions.find((a) => a.type === 'pod-change')!;
  t.equal(first.causes.length, 2);
  t.equal(first.causes[0]!.kind, 'pod-terminating');
  t.ok(first.causes[0]!.beforeMs >= 100);
  const breaks = report.breaks!;
  t.equal(breaks.watched, true);
  t.ok(report.totals.podChanges > 0);
  t.strictSame(
    [breaks.totals.expected, breaks.totals.violations, breaks.totals.addressChanges, breaks.totals.stuck],
    [report.totals.podChanges, 0, report.totals.addressChanges, 0],
    'every move expected, none stuck',
  );
  t.ok(breaks.findings.every((f) => f.type !== 'move' || (f.class === 'expected' && f.rule === 'watch-departed')));
  // How many sessions the balancer had put on the removed pod varies; two or more make a group.
  t.ok(report.totals.podChanges < 2 || /\d+ sessions left pod-. \(terminating \d+ms before\): .*; expected/.test(text), 'and one grouped line when two or more moved');
  t.equal(result.verdict.passed, true, result.verdict.broken.join('; '));
  t.equal(runExitCode(result), 0, 'expected moves never fail a run');
});

/** Three pods behind the demo balancer on loopback, and a run of 12 sessions against it with a fake watch. */
async function balancedRun(
  t: Test,
  options: { durationMs: number; timeoutMs?: number; stuckAfterMs?: number; script: (balancer: DemoBalancer, watch: FakeClusterWatch, servers: Map<string, RunningStunServer>) => void },
) {
  const silent = pino({ level: 'silent' });
  const servers = new Map<string, RunningStunServer>();
  for (const [name, node] of [['pod-a', 'node-1'], ['pod-b', 'node-2'], ['pod-c', 'node-1']] as const) {
    servers.set(name, await startStunServer({ host: '127.0.0.1', port: 0, podName: name, nodeName: node, logger: silent, summaryIntervalMs: 0 }));
  }
  const balancer = await DemoBalancer.start({ backends: [...servers].map(([name, server]) => ({ name, address: '127.0.0.1', port: server.port })) });
  t.teardown(async () => {
    balancer.close();
    await Promise.all([...servers.values()].map((server) => server.close()));
  });
  const watch = new FakeClusterWatch();
  const lines: string[] = [];
  const result = await runClient({
    target: { host: '127.0.0.1', address: '127.0.0.1', port: balancer.port, family: 4, endpoint: `127.0.0.1:${balancer.port}` },
    sessions: 12,
    rampMs: 50,
    intervalMs: 50,
    timeoutMs: options.timeoutMs ?? 300,
    payloadSize: 256,
    durationMs: options.durationMs,
    statsIntervalMs: 10_000,
    limits: { maxLoss: 100, maxViolations: 0, maxStuck: 0 },
    stuckAfterMs: options.stuckAfterMs,
    write: (line) => lines.push(line),
    style: new Chalk({ level: 0 }),
    watch,
    clock,
    onReady: () => options.script(balancer, watch, servers),
  });
  return { result, text: lines.join('\n'), breaks: result.report.breaks! };
}

t.test('a balancer that forgets every flow while all pods stay gives violations and FAIL', async (t) => {
  const { result, text, breaks } = await balancedRun(t, { durationMs: 2000, script: (balancer) => setTimeout(() => balancer.restart(), 500) });
  t.ok(breaks.totals.violations > 0, 'the flows that landed on another pod');
  t.strictSame([breaks.totals.expected, breaks.totals.stuck, breaks.totals.violations], [0, 0, result.report.totals.podChanges], 'every move a violation, by the watch');
  t.ok(breaks.findings.every((f) => f.type !== 'move' || f.rule === 'watch-still-ready'));
  t.match(text, /POD CHANGE (pod-.) \(node-\d\) -> pod-. \(node-\d\) \(violation: \1 still ready; silent /);
  t.equal(result.verdict.passed, false);
  t.match(result.verdict.broken[0], /^\d+ violations?: sessions moved off a pod still in the Service \(--max-violations 0\)$/);
  t.equal(runExitCode(result), 1);
});

t.test('a flow left on a removed pod is reported STUCK with its pod and cause, and RECOVERED as an expected move once cleared', async (t) => {
  let stale = 0;
  const { result, text, breaks } = await balancedRun(t, {
    durationMs: 3000,
    timeoutMs: 200,
    stuckAfterMs: 600,
    script: (balancer, watch, servers) =>
      setTimeout(() => {
        // The pod with the most flows, so at least one moves and one stays.
        const [victim, flows] = [...balancer.flowsPerBackend()].sort((a, b) => b[1] - a[1])[0]!;
        stale = Math.floor(flows / 2);
        watch.add({ time: clock(), kind: 'endpoint-removed', subject: '10.1.2.3', text: `endpoint 10.1.2.3 (${victim}) removed`, pod: victim });
        balancer.removeBackend(victim, stale);
        void servers.get(victim)!.close();
        setTimeout(() => balancer.clearStale(), 1500);
      }, 400),
  });
  t.ok(stale >= 1);
  t.equal(breaks.totals.stuck, stale, 'exactly the stale flows');
  t.equal(breaks.totals.violations, 0);
  t.match(text, /STUCK on (pod-.) \(node-\d\): unanswered for .* its pod \1 was removed from the Service .* ago and the session never moved: a stale conntrack entry still sends it to the removed pod/);
  t.match(text, /RECOVERED after .* stuck: answered by pod-. \(node-\d\) \(moved from pod-.\)/);
  const ends = breaks.findings.filter((f): f is StuckRecord => f.type === 'stuck-end');
  t.equal(ends.length, stale);
  t.ok(ends.every((f) => f.recovered === true && f.durationMs! >= 600 && f.durationMs! < 2000), 'recovered once cleared, about 1.5 s after the removal');
  t.ok(breaks.findings.every((f) => f.type !== 'move' || f.class === 'expected'));
  t.equal(result.verdict.passed, false);
  t.match(result.verdict.broken.join('; '), /stuck sessions?: unanswered while the Service answered others \(--max-stuck 0\)/);
});

t.test('a plain STUN target is named after the pod the watch maps its IP to', async (t) => {
  const { createSocket } = await import('node:dgram');
  const { encodeBindingSuccess } = await import('../../common/stun/codec.js');
  const plainStun = createSocket('udp4');
  plainStun.on('message', (request, from) => {
    plainStun.send(
      encodeBindingSuccess({ transactionId: request.subarray(8, 20), mapped: { address: from.address, port: from.port }, identity: { software: 'plain/1' } }),
      from.port,
      from.address,
    );
  });
  await new Promise<void>((r) => plainStun.bind(0, '127.0.0.1', r));
  t.teardown(() => plainStun.close());
  const port = plainStun.address().port;
  const lines: string[] = [];
  const result = await runClient({
    target: { host: '127.0.0.1', address: '127.0.0.1', port, family: 4, endpoint: `127.0.0.1:${port}` },
    sessions: 2,
    rampMs: 0,
    intervalMs: 50,
    timeoutMs: 200,
    payloadSize: 256,
    durationMs: 300,
    statsIntervalMs: 10_000,
    limits: { maxLoss: 1, maxViolations: 0, maxStuck: 0 },
    write: (line) => lines.push(line),
    style: new Chalk({ level: 0 }),
    watch: new FakeClusterWatch({ '127.0.0.1': { pod: 'stun-7', node: 'aks-3' } }),
  });
  t.same(
    result.report.pods.map((p) => [p.pod, p.node, p.source, p.software]),
    [['stun-7', 'aks-3', `127.0.0.1:${port}`, 'plain/1']],
  );
  t.ok(lines.some((l) => l.includes('established: stun-7 (aks-3)')));
});

t.test('startWatch() returns one line of reason when the kube module fails to load or to start', async (t) => {
  const failedLoad = await startWatch({ service: 's', onWarning: () => undefined, clock }, () => Promise.reject(new Error('Cannot find module')));
  t.same(failedLoad, { ok: false, reason: 'Cannot find module' });
  const failedStart = await startWatch({ service: 's', onWarning: () => undefined, clock }, async () => ({
    startClusterWatch: () => Promise.reject(new Error('forbidden: cannot watch pods')),
  }));
  t.same(failedStart, { ok: false, reason: 'forbidden: cannot watch pods' });
  const watch = new FakeClusterWatch();
  const ok = await startWatch({ service: 's', onWarning: () => undefined, clock }, async () => ({ startClusterWatch: async () => watch }));
  t.ok(ok.ok && ok.watch === watch);
});

t.test('discoverTargets() turns failures into a SetupError(discovery), and returns the addresses of the family asked for', async (t) => {
  const options = { service: 'affinity-tester', timeoutMs: 10, family: 'any' as const, onProgress: () => undefined };
  await t.rejects(discoverTargets(options, () => Promise.reject(new Error('no module'))), { name: 'SetupError', kind: 'discovery' });
  const discover = await import('../../kube/discover.js');
  await t.rejects(
    discoverTargets(options, async () => ({ ...discover, discoverServiceAddresses: () => Promise.reject(new Error('no LoadBalancer ingress after 10ms')) })),
    { message: /discovery failed: no LoadBalancer ingress after 10ms/ },
  );
  const asked: unknown[] = [];
  const dualStack = async () => ({
    addressesFor: discover.addressesFor,
    discoverServiceAddresses: async (o: { family?: unknown }) => {
      asked.push(o.family);
      return { port: 3478, addresses: [{ host: '2001:db8::4', family: 6 as const }, { host: '198.51.100.4', family: 4 as const }] };
    },
  });
  t.same(await discoverTargets(options, dualStack), [{ host: '2001:db8::4', port: 3478 }], 'any: the first address');
  t.same(await discoverTargets({ ...options, family: 4 }, dualStack), [{ host: '198.51.100.4', port: 3478 }]);
  t.same(await discoverTargets({ ...options, family: 'both' }, dualStack), [
    { host: '198.51.100.4', port: 3478 },
    { host: '2001:db8::4', port: 3478 },
  ]);
  t.same(asked, ['any', 4, 'both'], 'discovery waits for the family asked for');
});

t.test('kubeconfigAvailable() looks at KUBECONFIG and ~/.kube/config', async (t) => {
  const home = makeTempDir('home-');
  t.equal(kubeconfigAvailable({}, home), false);
  t.equal(kubeconfigAvailable({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, home), false, 'in a pod only with the service-account token too (common/kubeconfig-discovery.ts)');
  t.equal(kubeconfigAvailable({ KUBECONFIG: join(home, 'missing') }, home), false);
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), 'apiVersion: v1\n');
  t.equal(kubeconfigAvailable({}, home), true);
  t.equal(kubeconfigAvailable({ KUBECONFIG: join(home, '.kube', 'config') }, '/nonexistent'), true);
});

t.test('watchWanted(): a flag wins, then WATCH, then whether a kubeconfig exists', async (t) => {
  t.equal(watchWanted(false, { WATCH: 'true', KUBERNETES_SERVICE_HOST: 'x' }), false);
  t.equal(watchWanted(true, {}), true);
  t.equal(watchWanted(undefined, { WATCH: 'false', KUBERNETES_SERVICE_HOST: 'x' }), false);
  t.equal(watchWanted(undefined, { WATCH: '1' }), true);
  t.equal(watchWanted(undefined, { KUBERNETES_SERVICE_HOST: 'x' }), false, 'not in a pod without the service-account token');
});

t.test('a wall-clock step of 2 s mid-run leaves the gap between a cluster event and the break it explains exact', async (t) => {
  const { createSocket } = await import('node:dgram');
  const { encodeBindingSuccess } = await import('../../common/stun/codec.js');
  // A STUN server whose pod name the test switches, to make one pod change at a chosen time.
  let podName = 'pod-a';
  const server = createSocket('udp4');
  server.on('message', (request, from) => {
    server.send(encodeBindingSuccess({ transactionId: request.subarray(8, 20), mapped: { address: from.address, port: from.port }, identity: { software: 'test/1', podName, nodeName: 'node-1' } }), from.port, from.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const realDateNow = Date.now;
  t.teardown(() => {
    Date.now = realDateNow;
    server.close();
  });
  const port = server.address().port;
  // The run's clock, stepped by hand; the fake watch stamps its events with it, as the real
  // watch does with the clock the client hands it.
  const start = Date.UTC(2026, 0, 1, 12, 0, 0);
  let now = start;
  const watch = new FakeClusterWatch();
  const lines: string[] = [];
  let onLine: (line: string) => void = () => undefined;
  const lineMatching = (pattern: RegExp): Promise<void> =>
    new Promise((resolve) => (onLine = (line) => pattern.test(line) && resolve()));
  const established = lineMatching(/session 1 established: pod-a/);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const done = runClient({
    target: { host: '127.0.0.1', address: '127.0.0.1', port, family: 4, endpoint: `127.0.0.1:${port}` },
    sessions: 1,
    rampMs: 0,
    intervalMs: 100,
    timeoutMs: 1000,
    payloadSize: 256,
    statsIntervalMs: 60_000,
    limits: { maxLoss: 1, maxViolations: 0, maxStuck: 0 },
    write: (line) => {
      lines.push(line);
      onLine(line);
    },
    style: new Chalk({ level: 0 }),
    watch,
    clock: () => now,
    signal: controller.signal,
  });
  await established;
  // NTP steps the wall clock forward by 2 s; the run's clock does not move with it.
  Date.now = () => realDateNow() + 2000;
  now = start + 60;
  watch.add({ time: now, kind: 'pod-terminating', subject: 'pod-a', text: 'pod-a Terminating' });
  podName = 'pod-b';
  now = start + 100; // session 1's next request, answered by pod-b
  const changed = lineMatching(/POD CHANGE/);
  await changed;
  controller.abort();
  const result = await done;
  const changeAt = lines.findIndex((l) => l.includes('POD CHANGE'));
  t.equal(lines[changeAt], '12:00:00.100 session 1 POD CHANGE pod-a (node-1) -> pod-b (node-1) (expected: pod-a terminating 40ms before; silent 100ms)');
  t.strictSame(
    result.report.cluster.attributions.map((a) => [a.type, a.time, a.causes.map((c) => [c.kind, c.time, c.beforeMs])]),
    [['pod-change', '2026-01-01T12:00:00.100Z', [['pod-terminating', '2026-01-01T12:00:00.060Z', 40]]]],
  );
  t.equal(result.report.startedAt, '2026-01-01T12:00:00.000Z', 'the report is on the run clock too');
});
