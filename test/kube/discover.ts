import t, { type Test } from 'tap';
import { addressesFor, discoverServiceAddresses, discoverServiceTarget, ingressAddressOf } from '../../kube/discover.js';
import { KubeError } from '../../kube/errors.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { kubeConfigOf } from '../fixtures/fake-kube-config.js';
import { service } from '../fixtures/kube-objects.js';

async function fakeApi(t: Test): Promise<FakeKubeApi> {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  return api;
}

t.test('discoverServiceTarget() waits for the LoadBalancer ingress IP and reports progress', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester'));
  let reads = 0;
  api.onRequest((request) => {
    if (request.verb === 'get' && request.resource === 'services' && ++reads === 3) {
      api.update('services', undefined, 'affinity-tester', (object) => {
        object.status = { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } };
      });
    }
  });
  const progress: string[] = [];
  const target = await discoverServiceTarget({
    service: 'affinity-tester',
    timeoutMs: 5000,
    pollIntervalMs: 20,
    kubeConfig: kubeConfigOf(api),
    onProgress: (text) => progress.push(text),
  });
  t.same(target, { host: '203.0.113.10', port: 3478 });
  t.equal(progress.length, 2, 'one progress line for each read without an address');
  t.match(progress[0], /waiting for a LoadBalancer address for Service testing\/affinity-tester/);
  const request = api.requests.find((r) => r.resource === 'services');
  t.equal(request?.namespace, 'testing', "the kubeconfig context's namespace is the default");
});

t.test('discoverServiceTarget() returns a host name ingress and the UDP port, not the TCP one', async (t) => {
  const api = await fakeApi(t);
  api.put({
    ...service('stun', {
      ingress: [{ hostname: 'lb-1.example.net' }],
      ports: [
        { name: 'metrics', protocol: 'TCP', port: 8080 },
        { name: 'stun', protocol: 'UDP', port: 3479 },
      ],
    }),
    metadata: { name: 'stun', namespace: 'other' },
  });
  const target = await discoverServiceTarget({ namespace: 'other', service: 'stun', timeoutMs: 1000, kubeConfig: kubeConfigOf(api) });
  t.same(target, { host: 'lb-1.example.net', port: 3479 });
});

t.test('discoverServiceTarget() returns an IPv6 ingress address as it is', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '2001:db8::10' }] }));
  const target = await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 1000, kubeConfig: kubeConfigOf(api) });
  t.same(target, { host: '2001:db8::10', port: 3478 });
});

t.test('discoverServiceTarget() without an ingress rejects with no-ingress after the timeout', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester'));
  const started = Date.now();
  const error = await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 300, pollIntervalMs: 50, kubeConfig: kubeConfigOf(api) }).catch((e: unknown) => e);
  t.type(error, KubeError);
  t.equal((error as KubeError).kind, 'no-ingress');
  t.match((error as KubeError).message, /^Service affinity-tester in namespace testing has no LoadBalancer ingress after 300ms/);
  t.ok(Date.now() - started >= 300, 'it waited for the whole timeout');
});

t.test('discoverServiceTarget() of a missing Service rejects with "Service X not found in namespace Y"', async (t) => {
  const api = await fakeApi(t);
  const error = (await discoverServiceTarget({ service: 'nope', timeoutMs: 1000, kubeConfig: kubeConfigOf(api) }).catch((e: unknown) => e)) as KubeError;
  t.equal(error.kind, 'not-found');
  t.equal(error.message, 'Service nope not found in namespace testing');
});

t.test('discoverServiceTarget() forbidden by RBAC names the verb and the resource', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester'));
  api.forbid('get', 'services');
  const error = (await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 1000, kubeConfig: kubeConfigOf(api) }).catch((e: unknown) => e)) as KubeError;
  t.equal(error.kind, 'forbidden');
  t.match(error.message, /^forbidden: RBAC does not allow "get" on services in namespace testing/);
});

t.test('discoverServiceTarget() of a ClusterIP Service says it gets no external address', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester', { type: 'ClusterIP' }));
  const error = (await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 1000, kubeConfig: kubeConfigOf(api) }).catch((e: unknown) => e)) as KubeError;
  t.equal(error.kind, 'invalid');
  t.match(error.message, /is type ClusterIP, not LoadBalancer/);
});

t.test('discoverServiceTarget() of a Service with no UDP port says so', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.1' }], ports: [{ protocol: 'TCP', port: 80 }] }));
  const error = (await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 1000, kubeConfig: kubeConfigOf(api) }).catch((e: unknown) => e)) as KubeError;
  t.equal(error.message, 'Service affinity-tester in namespace testing has no UDP port');
});

t.test('discoverServiceTarget() with the API down says it cannot reach it', async (t) => {
  const api = await FakeKubeApi.start();
  const kubeConfig = kubeConfigOf(api);
  await api.close();
  const error = (await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 1000, kubeConfig }).catch((e: unknown) => e)) as KubeError;
  t.equal(error.kind, 'unreachable');
  t.match(error.message, /^cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);
});

t.test('ingressAddressOf() gives an IP its family and a host name the family "hostname"', async (t) => {
  t.same(ingressAddressOf('203.0.113.1'), { host: '203.0.113.1', family: 4 });
  t.same(ingressAddressOf('2001:db8::1'), { host: '2001:db8::1', family: 6 });
  t.same(ingressAddressOf('lb.example.net'), { host: 'lb.example.net', family: 'hostname' });
});

t.test('addressesFor() picks the first address, the first of a family, or one of each; none when it is not met', async (t) => {
  const v4 = { host: '203.0.113.1', family: 4 as const };
  const v4b = { host: '203.0.113.2', family: 4 as const };
  const v6 = { host: '2001:db8::1', family: 6 as const };
  const name = { host: 'lb.example.net', family: 'hostname' as const };
  t.same(addressesFor([v6, v4, v4b], 'any'), [v6]);
  t.same(addressesFor([v6, v4, v4b], 4), [v4]);
  t.same(addressesFor([v6, v4, v4b], 6), [v6]);
  t.same(addressesFor([v6, v4, v4b], 'both'), [v4, v6], 'IPv4 first, whatever the Service order');
  t.same(addressesFor([v4, v4b], 'both'), []);
  t.same(addressesFor([name], 'any'), [name]);
  t.same(addressesFor([name], 4), [], 'a host name is no family until it is resolved');
  t.same(addressesFor([], 'any'), []);
});

t.test('discoverServiceAddresses() of a dual-stack Service lists both ingress addresses with their families', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '2001:db8::10' }, { ip: '203.0.113.10' }] }));
  const found = await discoverServiceAddresses({ service: 'affinity-tester', timeoutMs: 1000, kubeConfig: kubeConfigOf(api) });
  t.same(found, {
    port: 3478,
    addresses: [
      { host: '2001:db8::10', family: 6 },
      { host: '203.0.113.10', family: 4 },
    ],
  });
  const target = await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 1000, kubeConfig: kubeConfigOf(api), family: 4 });
  t.same(target, { host: '203.0.113.10', port: 3478 });
});

t.test('discoverServiceAddresses() with family both waits for the second family to be published', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.10' }] }));
  let reads = 0;
  api.onRequest((request) => {
    if (request.verb === 'get' && request.resource === 'services' && ++reads === 2) {
      api.update('services', undefined, 'affinity-tester', (object) => {
        object.status = { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { ip: '2001:db8::10' }] } };
      });
    }
  });
  const progress: string[] = [];
  const found = await discoverServiceAddresses({
    service: 'affinity-tester',
    timeoutMs: 5000,
    pollIntervalMs: 20,
    family: 'both',
    kubeConfig: kubeConfigOf(api),
    onProgress: (text) => progress.push(text),
  });
  t.same(found.addresses, [
    { host: '203.0.113.10', family: 4 },
    { host: '2001:db8::10', family: 6 },
  ]);
  t.equal(progress.length, 1, 'one read with only the IPv4 address');
  t.match(progress[0], /^waiting for an IPv4 and an IPv6 LoadBalancer address for Service testing\/affinity-tester \(it has 203\.0\.113\.10\) \(\d+ms of 5\.00s\)$/);
});

t.test('discoverServiceTarget() with family 6 and only an IPv4 ingress rejects with no-ingress naming what it has', async (t) => {
  const api = await fakeApi(t);
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.10' }] }));
  const error = (await discoverServiceTarget({ service: 'affinity-tester', timeoutMs: 100, pollIntervalMs: 20, family: 6, kubeConfig: kubeConfigOf(api) }).catch((e: unknown) => e)) as KubeError;
  t.equal(error.kind, 'no-ingress');
  t.equal(
    error.message,
    'Service affinity-tester in namespace testing has no IPv6 LoadBalancer ingress after 100ms (it has 203.0.113.10): is it dual-stack (ipFamilyPolicy PreferDualStack, manifests/overlays/dual-stack) on a dual-stack cluster?',
  );
});
