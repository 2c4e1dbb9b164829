// The whole path a user takes with a cluster, with the fake API server standing in for it: the
// client finds its target through the Service's LoadBalancer address, watches the cluster while
// it runs, prints cluster events as they happen and puts them in the JSON report.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { startStunServer } from '../../server/udp-server.js';
import { runCli } from '../fixtures/cli.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { endpointSlice, event, node, pod, service } from '../fixtures/kube-objects.js';

t.test('client with no target discovers it from the Service, watches the cluster and reports its events', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  // The server in this process: only the client's own output needs a process here.
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'server-a', nodeName: 'node-a', logger: pino({ level: 'silent' }), summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const port = server.port;
  api.put(service('affinity-tester', { ingress: [{ ip: '127.0.0.1' }], ports: [{ name: 'stun', protocol: 'UDP', port }] }));
  api.put(pod('server-a', { ip: '10.1.0.1', node: 'node-a' }));
  api.put(endpointSlice('affinity-tester-1', 'affinity-tester', [{ ip: '10.1.0.1', pod: 'server-a', node: 'node-a' }]));
  api.put(node('node-a'));

  const report = join(dir, 'report.json');
  const env = { KUBECONFIG: api.kubeconfigPath, NAMESPACE: undefined, SERVICE: undefined, TARGET_ADDR: undefined, TARGET_PORT: undefined, WATCH: undefined };
  const clientRun = runCli(['client', '--sessions', '3', '--ramp', '100ms', '--interval', '200ms', '--duration', '3s', '--stats-interval', '1s', '--report', report], { env, timeoutMs: 30_000 });
  // Change the cluster once the client's watches are open.
  await api.waitForWatches(4, 15_000);
  api.put(node('node-b', true));
  api.put(event('scale', { type: 'Normal', reason: 'TriggeredScaleUp', message: 'pod triggered scale-up', object: 'Pod/pause-1' }));
  const result = await clientRun;

  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /discovering the LoadBalancer address of Service affinity-tester/);
  t.match(result.stdout, /node node-b added/, 'cluster events are printed as they happen');
  const json = JSON.parse(readFileSync(report, 'utf8'));
  t.equal(json.cluster.watched, true);
  const texts = json.cluster.events.map((e: { text: string }) => e.text);
  t.ok(texts.includes('node node-b added'), 'the report holds the node event');
  t.ok(texts.includes('Normal TriggeredScaleUp pod/pause-1: pod triggered scale-up'), 'and the Kubernetes event');
  t.ok(json.totals.received > 0, 'the discovered target answered');
  const services = api.requests.filter((r) => r.resource === 'services' && r.verb === 'get');
  t.ok(services.every((r) => r.namespace === 'testing'), "the kubeconfig context's namespace is used");
});
