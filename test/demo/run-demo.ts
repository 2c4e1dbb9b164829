import t from 'tap';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../fixtures/cli.js';
import { DemoBalancer, pickBackend, type Backend } from '../../client/demo/balancer.js';
import { demoTimeline } from '../../client/demo/run-demo.js';
import type { ClientReport } from '../../client/report.js';

const dir = mkdtempSync(join(tmpdir(), 'demo-'));

t.test('pickBackend() is stable for a flow and spreads a removed backend over all the others', async (t) => {
  const backends: Backend[] = ['a', 'b', 'c', 'd'].map((name, i) => ({ name, address: '127.0.0.1', port: 1000 + i }));
  const flows = Array.from({ length: 400 }, (_, i) => `udp|127.0.0.1|${20000 + i}|127.0.0.1|3478`);
  const before = flows.map((f) => pickBackend(f, backends).name);
  t.same(flows.map((f) => pickBackend(f, backends).name), before, 'deterministic');
  const after = flows.map((f) => pickBackend(f, backends.filter((b) => b.name !== 'b')).name);
  const moved = new Set<string>();
  let disturbed = 0;
  flows.forEach((_, i) => {
    if (before[i] !== 'b') disturbed += after[i] === before[i] ? 0 : 1;
    else moved.add(after[i]!);
  });
  t.equal(disturbed, 0, 'flows of other backends do not move');
  t.same([...moved].sort(), ['a', 'c', 'd'], "b's flows spread over every remaining backend");
});

t.test('the demo balancer pins flows, keeps them when a backend is added and rehashes them when theirs is removed', async (t) => {
  const backendSockets = await Promise.all(
    ['x', 'y'].map(async (name) => {
      const socket = createSocket('udp4');
      socket.on('message', (m, from) => socket.send(Buffer.concat([Buffer.from(`${name}:${from.port}:`), m]), from.port, from.address));
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
      return { name, socket };
    }),
  );
  const balancer = await DemoBalancer.start({
    backends: [{ name: 'x', address: '127.0.0.1', port: backendSockets[0]!.socket.address().port }],
    graceMs: 10,
  });
  const client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  t.teardown(() => {
    client.close();
    balancer.close();
    for (const b of backendSockets) b.socket.close();
  });
  const ask = (): Promise<{ text: string; fromPort: number }> =>
    new Promise((resolve) => {
      client.once('message', (m, from) => resolve({ text: m.toString(), fromPort: from.port }));
      client.send('ping', balancer.port, '127.0.0.1');
    });
  const first = await ask();
  t.match(first.text, /^x:\d+:ping$/);
  t.equal(first.fromPort, balancer.port, 'replies come from the balancer');
  balancer.addBackend({ name: 'y', address: '127.0.0.1', port: backendSockets[1]!.socket.address().port });
  t.equal((await ask()).text, first.text, 'same backend and same upstream port after an add');
  t.equal(balancer.removeBackend('x'), 1);
  const moved = await ask();
  t.match(moved.text, /^y:\d+:ping$/);
  t.not(moved.text.split(':')[1], first.text.split(':')[1], 'a new source port for the rehashed flow');
  t.same([...balancer.flowsPerBackend()], [['y', 1]]);
});

t.test('demoTimeline() adds a pod at 30% and removes one at 55% of the run', async (t) => {
  t.same(demoTimeline(20_000), { addAtMs: 6000, removeAtMs: 11_000 });
});

t.test('affinity-tester demo shows established, pod added and removed, red changes, stats and a summary, and exits 0', async (t) => {
  const report = join(dir, 'demo.json');
  const result = await runCli(['demo', '--duration', '4s', '--stats-interval', '1s', '--sessions', '12', '--ramp', '500ms', '--report', report], {
    env: { HOME: dir, KUBECONFIG: '' },
    timeoutMs: 30_000,
  });
  t.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  t.match(out, /demo: pod-a \(node-1\), pod-b \(node-2\), pod-c \(node-1\) serve on 127\.0\.0\.1 behind a demo UDP balancer/);
  t.equal(out.match(/ established: /g)?.length, 12);
  t.match(out, /demo: added pod-d \(node-2\)/);
  t.match(out, /demo: removed pod-b; the balancer forgot its \d+ flows/);
  t.match(out, /POD CHANGE pod-b \(node-2\) -> pod-[acd]/);
  t.match(out, /ADDRESS CHANGE 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+/);
  t.match(out, / stats  sessions 12 established/);
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

t.test('affinity-tester demo --help labels the balancer as a demo fixture', async (t) => {
  const result = await runCli(['demo', '--help']);
  t.equal(result.code, 0);
  t.match(result.stdout, /DEMO FIXTURE/);
  t.match(result.stdout, /exits 0/);
});
