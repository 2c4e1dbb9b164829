import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runMain } from '../fixtures/run-main.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { service } from '../fixtures/kube-objects.js';

async function fakeApi(t: Test): Promise<{ api: FakeKubeApi; env: Record<string, string | undefined> }> {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  // NAMESPACE and SERVICE are the commands' environment variables: keep the caller's out.
  return { api, env: { KUBECONFIG: api.kubeconfigPath, NAMESPACE: undefined, SERVICE: undefined, KUBERNETES_SERVICE_HOST: undefined } };
}

function emptyHome(t: Test): string {
  const home = mkdtempSync(join(tmpdir(), 'kube-home-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

t.test('affinity-tester discover prints the LoadBalancer IP on stdout', async (t) => {
  const { api, env } = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.7' }] }));
  const result = await runMain(['discover'], { env });
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, '203.0.113.7\n');
});

t.test('affinity-tester discover --output env and endpoint print what make client and --target take', async (t) => {
  const { api, env } = await fakeApi(t);
  api.put({ ...service('udp', { ingress: [{ ip: '2001:db8::7' }] }), metadata: { name: 'udp', namespace: 'perf' } });
  const asEnv = await runMain(['discover', '--namespace', 'perf', '--service', 'udp', '--output', 'env'], { env });
  t.equal(asEnv.stdout, 'TARGET_ADDR=2001:db8::7\nTARGET_PORT=3478\n');
  const asEndpoint = await runMain(['discover', '--output', 'endpoint'], { env: { ...env, NAMESPACE: 'perf', SERVICE: 'udp' } });
  t.equal(asEndpoint.stdout, '[2001:db8::7]:3478\n', 'NAMESPACE and SERVICE work as the flags do');
});

t.test('affinity-tester discover without a kubeconfig prints one line and exits 2', async (t) => {
  const result = await runMain(['discover'], { env: { KUBECONFIG: undefined, HOME: emptyHome(t), KUBERNETES_SERVICE_HOST: undefined } });
  t.equal(result.code, 2);
  t.equal(result.stderr, 'affinity-tester: no kubeconfig: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config (or run inside the cluster)\n');
  t.equal(result.stdout, '');
});

t.test('affinity-tester discover with a kubeconfig path that does not exist says so, exit 2', async (t) => {
  const result = await runMain(['discover', '--kubeconfig', '/nonexistent/kubeconfig'], { env: { KUBECONFIG: undefined } });
  t.equal(result.code, 2);
  t.equal(result.stderr, 'affinity-tester: no kubeconfig: /nonexistent/kubeconfig does not exist\n');
});

t.test('affinity-tester discover of a missing Service and with no ingress: one line each, exit 2', async (t) => {
  const { api, env } = await fakeApi(t);
  const missing = await runMain(['discover', '--service', 'nope'], { env });
  t.equal(missing.code, 2);
  t.equal(missing.stderr, 'affinity-tester: Service nope not found in namespace testing\n');
  api.put(service('affinity-tester'));
  // The wait outlasts the first try by far even on a loaded machine, so there is a waiting line.
  const pending = await runMain(['discover', '--timeout', '1s'], { env });
  t.equal(pending.code, 2);
  t.match(pending.stderr, /^waiting for a LoadBalancer address for Service testing\/affinity-tester/);
  t.match(pending.stderr, /\naffinity-tester: Service affinity-tester in namespace testing has no LoadBalancer ingress after 1.00s: see "kubectl describe service affinity-tester -n testing"/);
  t.notMatch(pending.stderr, /\n\s+at /, 'no stack trace');
});

t.test('affinity-tester discover forbidden by RBAC names the verb and resource, exit 2', async (t) => {
  const { api, env } = await fakeApi(t);
  api.forbid('get', 'services');
  const result = await runMain(['discover'], { env });
  t.equal(result.code, 2);
  t.match(result.stderr, /^affinity-tester: forbidden: RBAC does not allow "get" on services in namespace testing/);
});

t.test('affinity-tester deploy --no-wait, scaleup, scaledown and clean work against the API', async (t) => {
  const { api, env } = await fakeApi(t);
  const deployed = await runMain(['deploy', '--no-wait', '--replicas', '2', '--image', 'example/at:1', '--session-affinity', 'None'], { env });
  t.equal(deployed.code, 0, deployed.stderr);
  t.equal(deployed.stdout, 'deployment/affinity-tester created in namespace testing\nservice/affinity-tester created in namespace testing\n');
  const deployment = api.get('deployments', undefined, 'affinity-tester') as any;
  t.equal(deployment.spec.replicas, 2);
  t.equal(deployment.spec.template.spec.containers[0].image, 'example/at:1');
  t.equal((api.get('services', undefined, 'affinity-tester') as any).spec.sessionAffinity, 'None');

  const up = await runMain(['scaleup', '--replicas', '4', '--cpu', '2'], { env });
  t.equal(up.code, 0, up.stderr);
  t.match(up.stdout, /^deployment\/affinity-tester-node-scaleup created in namespace testing: 4 pause pods requesting 2 CPU each/);
  const down = await runMain(['scaledown'], { env });
  t.match(down.stdout, /^deployment\/affinity-tester-node-scaleup scaled to 0/);
  t.equal((api.get('deployments', undefined, 'affinity-tester-node-scaleup') as any).spec.replicas, 0);

  const cleaned = await runMain(['clean'], { env });
  t.equal(cleaned.code, 0, cleaned.stderr);
  t.equal(
    cleaned.stdout,
    [
      'job/affinity-tester-client not found (nothing to delete)',
      'deployment/affinity-tester-node-scaleup deleted',
      'service/affinity-tester deleted',
      'deployment/affinity-tester deleted',
      '',
    ].join('\n'),
  );
});

t.test('affinity-tester deploy waits for the rollout and lists the ready pods', async (t) => {
  const { api, env } = await fakeApi(t);
  api.onRequest((request) => {
    if (request.verb !== 'get' || request.resource !== 'deployments') return;
    const deployment = api.get('deployments', undefined, 'affinity-tester') as any;
    if (!deployment || deployment.status?.readyReplicas) return;
    api.update('deployments', undefined, 'affinity-tester', (object: any) => {
      object.status = { observedGeneration: object.metadata.generation + 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3 };
    });
  });
  const result = await runMain(['deploy', '--timeout', '10s'], { env });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^deployment\/affinity-tester created in namespace testing\nservice\/affinity-tester created in namespace testing\n$/);
});

t.test('affinity-tester scaleup with a bad --cpu and deploy with a bad --only exit 2 with one line', async (t) => {
  const cpu = await runMain(['scaleup', '--cpu', 'lots']);
  t.equal(cpu.code, 2);
  t.match(cpu.stderr, /^affinity-tester: error: option '--cpu <quantity>' argument 'lots' is invalid\. expected a CPU quantity/);
  const only = await runMain(['deploy', '--only', 'pods']);
  t.equal(only.code, 2);
  t.match(only.stderr, /expected a comma-separated list of deployment, service, rbac/);
});

t.test('affinity-tester deploy --help lists every option with its environment variable', async (t) => {
  const result = await runMain(['deploy', '--help']);
  t.equal(result.code, 0);
  for (const env of ['NAMESPACE', 'SERVICE', 'KUBECONFIG', 'SERVER_IMAGE', 'REPLICAS', 'SESSION_AFFINITY', 'EXTERNAL_TRAFFIC_POLICY', 'DEPLOY_TIMEOUT']) {
    t.match(result.stdout.replace(/\s+/g, ' '), `env: ${env})`);
  }
});

t.test('affinity-tester discover when the API server fails the call exits 1 with one line', async (t) => {
  const { api, env } = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.7' }] }));
  api.failNext('get', 'services', 500);
  const result = await runMain(['discover'], { env });
  t.equal(result.code, 1);
  t.match(result.stderr, /^affinity-tester: get services affinity-tester in namespace testing failed \(HTTP 500\)/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});

t.test('affinity-tester discover on a terminal replaces its waiting line and ends it before the error', async (t) => {
  const { api, env } = await fakeApi(t);
  api.put(service('affinity-tester'));
  const result = await runMain(['discover', '--timeout', '1s'], { env, errIsTTY: true });
  t.equal(result.code, 2);
  t.match(result.stderr, /^\r\x1b\[2Kwaiting for a LoadBalancer address for Service testing\/affinity-tester \(\d+ms of 1\.00s\)/);
  t.match(result.stderr, /\)\naffinity-tester: Service affinity-tester in namespace testing has no LoadBalancer ingress after 1\.00s/);
});

t.test('affinity-tester discover --output json names the namespace and Service', async (t) => {
  const { api, env } = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ hostname: 'lb.example' }] }));
  const result = await runMain(['discover', '--output', 'json'], { env });
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.stdout), {
    namespace: 'testing',
    service: 'affinity-tester',
    host: 'lb.example',
    port: 3478,
    family: 'hostname',
    addresses: [{ host: 'lb.example', family: 'hostname' }],
  });
});

t.test('affinity-tester discover of a dual-stack Service: the first address by default, one family with --family, both in the JSON', async (t) => {
  const { api, env } = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.7' }, { ip: '2001:db8::7' }] }));
  const first = await runMain(['discover'], { env });
  t.equal(first.stdout, '203.0.113.7\n', 'any: the first address, as on a single-stack Service');
  const six = await runMain(['discover', '--family', '6', '--output', 'endpoint'], { env });
  t.equal(six.stdout, '[2001:db8::7]:3478\n');
  const fourFromEnv = await runMain(['discover', '--output', 'env'], { env: { ...env, DISCOVER_FAMILY: '4' } });
  t.equal(fourFromEnv.stdout, 'TARGET_ADDR=203.0.113.7\nTARGET_PORT=3478\n');
  const json = await runMain(['discover', '--family', '6', '--output', 'json'], { env });
  t.same(JSON.parse(json.stdout), {
    namespace: 'testing',
    service: 'affinity-tester',
    host: '2001:db8::7',
    port: 3478,
    family: 6,
    addresses: [
      { host: '203.0.113.7', family: 4 },
      { host: '2001:db8::7', family: 6 },
    ],
  });
});

t.test('affinity-tester discover --family 6 of an IPv4-only Service waits, then names what it has, exit 2', async (t) => {
  const { api, env } = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.7' }] }));
  const result = await runMain(['discover', '--family', '6', '--timeout', '1s'], { env });
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.match(result.stderr, /^waiting for an IPv6 LoadBalancer address for Service testing\/affinity-tester \(it has 203\.0\.113\.7\) \(\d+ms of 1\.00s\)\n/);
  t.match(
    result.stderr,
    /\naffinity-tester: Service affinity-tester in namespace testing has no IPv6 LoadBalancer ingress after 1\.00s \(it has 203\.0\.113\.7\): is it dual-stack \(ipFamilyPolicy PreferDualStack, manifests\/overlays\/dual-stack\) on a dual-stack cluster\?\n$/,
  );
});

t.test('affinity-tester discover --family 5 is a usage error naming the choices', async (t) => {
  const { env } = await fakeApi(t);
  const result = await runMain(['discover', '--family', '5'], { env });
  t.equal(result.code, 2);
  t.match(result.stderr, /argument '5' is invalid\. Allowed choices are 4, 6, any\./);
});

t.test('affinity-tester scaledown with no pause pods says there is nothing to scale down', async (t) => {
  const { env } = await fakeApi(t);
  const result = await runMain(['scaledown', '--namespace', 'testing'], { env });
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, 'deployment/affinity-tester-node-scaleup not found in namespace testing: nothing to scale down\n');
});
