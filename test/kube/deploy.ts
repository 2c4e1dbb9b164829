import t, { type Test } from 'tap';
import { deploy, rolloutComplete } from '../../kube/deploy.js';
import { scaleNodeWorkload } from '../../kube/scale.js';
import { clean } from '../../kube/clean.js';
import { KubeError } from '../../kube/errors.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { kubeConfigOf } from '../fixtures/fake-kube-config.js';
import { pod, service } from '../fixtures/kube-objects.js';

async function fakeApi(t: Test): Promise<FakeKubeApi> {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  return api;
}

/** Plays the Deployment controller and kubelet: pods appear and turn ready after `polls` reads. */
function controller(api: FakeKubeApi, polls: number): void {
  let reads = 0;
  api.onRequest((request) => {
    if (request.verb !== 'get' || request.resource !== 'deployments' || request.name !== 'affinity-tester') return;
    const deployment = api.get('deployments', request.namespace, 'affinity-tester') as any;
    if (!deployment || ++reads < polls) return;
    const replicas = deployment.spec.replicas;
    for (let i = 0; i < replicas; i++) {
      api.put({ ...pod(`affinity-tester-${i}`, { ip: `10.1.0.${i + 1}`, node: `node-${i}`, labels: deployment.spec.template.metadata.labels }), metadata: { name: `affinity-tester-${i}`, namespace: request.namespace, labels: deployment.spec.template.metadata.labels } });
    }
    api.update('deployments', request.namespace, 'affinity-tester', (object: any) => {
      object.status = { observedGeneration: object.metadata.generation + 1, replicas, updatedReplicas: replicas, readyReplicas: replicas };
    });
  });
}

t.test('deploy() creates the namespace, Deployment and Service, then waits until every pod is ready', async (t) => {
  const api = await fakeApi(t);
  controller(api, 3);
  const progress: string[] = [];
  const result = await deploy({ kubeConfig: kubeConfigOf(api), namespace: 'perf', timeoutMs: 5000, pollIntervalMs: 10, onProgress: (text) => progress.push(text) });
  t.same(result.objects.map((o) => `${o.ref} ${o.action}`), ['namespace/perf created', 'deployment/affinity-tester created', 'service/affinity-tester created']);
  t.same(result.pods.map((p) => [p.name, p.node, p.ready]), [
    ['affinity-tester-0', 'node-0', true],
    ['affinity-tester-1', 'node-1', true],
    ['affinity-tester-2', 'node-2', true],
  ]);
  t.ok(progress.some((line) => /^waiting for deployment affinity-tester: 0 of 3 pods ready/.test(line)), 'a progress line while waiting');
  const deployment = api.get('deployments', 'perf', 'affinity-tester') as any;
  t.equal(deployment.spec.replicas, 3);
  t.equal(deployment.spec.template.spec.containers[0].env[0].name, 'POD_NAME', 'the manifest from manifests/ was sent');
  const svc = api.get('services', 'perf', 'affinity-tester') as any;
  t.equal(svc.spec.type, 'LoadBalancer');
  t.equal(svc.spec.sessionAffinity, 'ClientIP');
});

t.test('deploy() again replaces the objects with the new settings and keeps what the cluster allocated', async (t) => {
  const api = await fakeApi(t);
  await deploy({ kubeConfig: kubeConfigOf(api), wait: false, timeoutMs: 1000 });
  api.update('services', undefined, 'affinity-tester', (object: any) => {
    object.spec.clusterIP = '10.96.0.10';
    object.spec.ports[0].nodePort = 31478;
    object.spec.healthCheckNodePort = 32000;
  });
  const result = await deploy({
    kubeConfig: kubeConfigOf(api),
    wait: false,
    timeoutMs: 1000,
    image: 'registry.example/affinity-tester:1.2.3',
    replicas: 5,
    sessionAffinity: 'None',
    externalTrafficPolicy: 'Cluster',
  });
  t.same(result.objects.map((o) => `${o.ref} ${o.action}`), ['deployment/affinity-tester replaced', 'service/affinity-tester replaced']);
  t.equal(result.namespace, 'testing', "the kubeconfig context's namespace");
  const deployment = api.get('deployments', undefined, 'affinity-tester') as any;
  t.equal(deployment.spec.replicas, 5);
  t.equal(deployment.spec.template.spec.containers[0].image, 'registry.example/affinity-tester:1.2.3');
  const svc = api.get('services', undefined, 'affinity-tester') as any;
  t.equal(svc.spec.sessionAffinity, 'None');
  t.equal(svc.spec.externalTrafficPolicy, 'Cluster');
  t.equal(svc.spec.clusterIP, '10.96.0.10', 'cluster IP kept');
  t.equal(svc.spec.ports[0].nodePort, 31478, 'node port kept');
  t.equal(svc.spec.healthCheckNodePort, undefined, 'no health-check port with the Cluster policy');
});

t.test('deploy() of the service alone, under another name, does not wait', async (t) => {
  const api = await fakeApi(t);
  const result = await deploy({ kubeConfig: kubeConfigOf(api), parts: ['service'], service: 'udp-test', timeoutMs: 1000 });
  t.same(result.objects.map((o) => o.ref), ['service/udp-test']);
  t.same(result.pods, []);
  t.notOk(api.get('deployments', undefined, 'affinity-tester'));
});

t.test('deploy() of rbac creates the read-only ServiceAccount, roles and bindings in the namespace', async (t) => {
  const api = await fakeApi(t);
  const result = await deploy({ kubeConfig: kubeConfigOf(api), parts: ['rbac'], timeoutMs: 1000 });
  t.same(result.objects.map((o) => o.ref), [
    'serviceaccount/affinity-tester-client',
    'role/affinity-tester-client',
    'rolebinding/affinity-tester-client',
    'clusterrole/affinity-tester-client-nodes',
    'clusterrolebinding/affinity-tester-client-nodes',
  ]);
  const binding = api.get('clusterrolebindings', undefined, 'affinity-tester-client-nodes') as any;
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'affinity-tester-client', namespace: 'testing' }]);
});

t.test('deploy() whose pods never become ready stops after the timeout with one line', async (t) => {
  const api = await fakeApi(t);
  const error = (await deploy({ kubeConfig: kubeConfigOf(api), timeoutMs: 200, pollIntervalMs: 20 }).catch((e: unknown) => e)) as KubeError;
  t.type(error, KubeError);
  t.equal(error.kind, 'timeout');
  t.match(error.message, /^deployment affinity-tester in namespace testing: 0 of 3 pods ready after 200ms/);
});

t.test('deploy() forbidden to create deployments names the verb and resource', async (t) => {
  const api = await fakeApi(t);
  api.forbid('create', 'deployments');
  const error = (await deploy({ kubeConfig: kubeConfigOf(api), timeoutMs: 200 }).catch((e: unknown) => e)) as KubeError;
  t.equal(error.kind, 'forbidden');
  t.match(error.message, /^forbidden: RBAC does not allow "create" on deployments\.apps in namespace testing/);
});

t.test('rolloutComplete() waits for the controller to observe the change and for old pods to go', async (t) => {
  const done = { desired: 3, updated: 3, ready: 3, total: 3, observed: true };
  t.ok(rolloutComplete(done));
  t.notOk(rolloutComplete({ ...done, observed: false }));
  t.notOk(rolloutComplete({ ...done, ready: 2 }));
  t.notOk(rolloutComplete({ ...done, total: 4 }), 'an old pod is still there');
  t.notOk(rolloutComplete({ ...done, updated: 2 }));
});

t.test('scaleNodeWorkload() sets replicas and CPU of the pause Deployment; scaling to 0 keeps the CPU', async (t) => {
  const api = await fakeApi(t);
  const down = await scaleNodeWorkload({ kubeConfig: kubeConfigOf(api), replicas: 0 });
  t.equal(down.action, 'absent', 'scaling down nothing creates nothing');
  const up = await scaleNodeWorkload({ kubeConfig: kubeConfigOf(api), replicas: 6, cpu: '1500m' });
  t.same([up.ref, up.action, up.replicas, up.cpu], ['deployment/affinity-tester-node-scaleup', 'created', 6, '1500m']);
  let deployment = api.get('deployments', undefined, 'affinity-tester-node-scaleup') as any;
  t.equal(deployment.spec.replicas, 6);
  t.same(deployment.spec.template.spec.containers[0].resources.requests.cpu, '1500m');
  const again = await scaleNodeWorkload({ kubeConfig: kubeConfigOf(api), replicas: 0 });
  t.same([again.action, again.replicas, again.cpu], ['replaced', 0, '1500m']);
  deployment = api.get('deployments', undefined, 'affinity-tester-node-scaleup') as any;
  t.equal(deployment.spec.replicas, 0);
  t.same(deployment.spec.template.spec.containers[0].resources.limits.cpu, '1500m');
});

t.test('clean() deletes the Job, scale-up, Service and Deployment, and reports those already gone', async (t) => {
  const api = await fakeApi(t);
  await deploy({ kubeConfig: kubeConfigOf(api), wait: false, timeoutMs: 1000 });
  api.put(service('other'));
  const result = await clean({ kubeConfig: kubeConfigOf(api), service: 'affinity-tester' });
  t.same(result.objects.map((o) => `${o.ref} ${o.action}`), [
    'job/affinity-tester-client absent',
    'deployment/affinity-tester-node-scaleup absent',
    'service/affinity-tester deleted',
    'deployment/affinity-tester deleted',
  ]);
  t.notOk(api.get('services', undefined, 'affinity-tester'));
  t.ok(api.get('services', undefined, 'other'), 'other Services are left alone');
});
