// The client with a kubeconfig, against the fake Kubernetes API (test/fixtures/fake-kube-api.ts):
// target discovery when none is given, the cluster watch on by default, and a watch that cannot
// start switching itself off with one line.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { runClientCommand } from '../fixtures/client-command.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { endpointSlice, pod, service } from '../fixtures/kube-objects.js';
import { startStunServer } from '../../server/udp-server.js';
import type { ClientReport } from '../../client/report.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

const dir = makeTempDir('client-kube-');
const fast = ['--sessions', '3', '--ramp', '0', '--interval', '50ms', '--timeout', '1s', '--duration', '600ms', '--stats-interval', '500ms'];

async function setUp(t: Test) {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-k', nodeName: 'node-k', logger: pino({ level: 'silent' }), summaryIntervalMs: 0 });
  const api = await FakeKubeApi.start();
  t.teardown(async () => {
    api.close();
    await server.close();
  });
  api.put(service('affinity-tester', { ingress: [{ ip: '127.0.0.1' }], ports: [{ name: 'stun', protocol: 'UDP', port: server.port }] }));
  api.put(pod('pod-k', { ip: '10.1.2.3', node: 'node-k' }));
  api.put(endpointSlice('affinity-tester-abc', 'affinity-tester', [{ ip: '10.1.2.3', pod: 'pod-k', node: 'node-k' }]));
  const env = { KUBECONFIG: api.kubeconfigPath, HOME: dir, KUBERNETES_SERVICE_HOST: '', TARGET_ADDR: '', TARGET_PORT: '', NAMESPACE: undefined, SERVICE: undefined, WATCH: undefined };
  return { server, api, env };
}

t.test('without a target and with a kubeconfig, the client discovers the Service and watches the cluster', async (t) => {
  const { server, env } = await setUp(t);
  const report = join(dir, 'discovered.json');
  const result = await runClientCommand([...fast, '--report', report], env);
  t.equal(result.code, 0, result.stderr + result.stdout);
  t.match(result.stdout, /no target given: discovering the LoadBalancer address of Service affinity-tester/);
  t.match(result.stdout, new RegExp(`client: 3 sessions -> 127\\.0\\.0\\.1:${server.port}`));
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  t.equal(parsed.target.port, server.port);
  t.equal(parsed.cluster.watched, true, 'the watch is on by default with a kubeconfig');
  t.equal(parsed.totals.lost, 0);
});

t.test('--no-watch (or WATCH=false) keeps the watch off even with a kubeconfig', async (t) => {
  const { server, env } = await setUp(t);
  const flag = join(dir, 'no-watch.json');
  const byFlag = await runClientCommand(['--target', `127.0.0.1:${server.port}`, ...fast, '--no-watch', '--report', flag], env);
  t.equal(byFlag.code, 0, byFlag.stderr);
  t.equal((JSON.parse(readFileSync(flag, 'utf8')) as ClientReport).cluster.watched, false);
  const variable = join(dir, 'watch-false.json');
  const byEnv = await runClientCommand(['--target', `127.0.0.1:${server.port}`, ...fast, '--report', variable], { ...env, WATCH: 'false' });
  t.equal(byEnv.code, 0, byEnv.stderr);
  t.equal((JSON.parse(readFileSync(variable, 'utf8')) as ClientReport).cluster.watched, false);
});

t.test('a watch that cannot start prints one line and the run goes on without it', async (t) => {
  const { server } = await setUp(t);
  const kubeconfig = join(dir, 'broken-kubeconfig');
  writeFileSync(kubeconfig, 'this is: [not a kubeconfig\n');
  const report = join(dir, 'broken.json');
  const result = await runClientCommand(['--target', `127.0.0.1:${server.port}`, ...fast, '--watch', '--report', report], {
    KUBECONFIG: kubeconfig,
    HOME: dir,
    KUBERNETES_SERVICE_HOST: '',
  });
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout.match(/cluster watch off: /g)?.length, 1);
  t.equal((JSON.parse(readFileSync(report, 'utf8')) as ClientReport).cluster.watched, false);
});

t.test('without a target, discovery that fails throws a one-line SetupError(discovery) (the CLI exits 2 with it)', async (t) => {
  const { api, env } = await setUp(t);
  api.put(service('affinity-tester', {}));
  const result = await runClientCommand([...fast, '--discover-timeout', '1s', '--report', join(dir, 'none.json')], env);
  t.equal(result.code, undefined);
  t.match(result.error, { name: 'SetupError', kind: 'discovery', message: /^no target given and discovery failed: / });
  t.equal(result.error!.message.split('\n').length, 1);
});
