import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import t, { type Test } from 'tap';
import { CoreV1Api } from '@kubernetes/client-node';
import { connectKube, loadKubeConfig } from '../../kube/kubeconfig.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { service } from '../fixtures/kube-objects.js';

function kubeconfig(server: string, namespace?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "' + server + '"}}]',
    'users: [{name: u, user: {token: t}}]',
    `contexts: [{name: x, context: {cluster: c, user: u${namespace ? `, namespace: ${namespace}` : ''}}}]`,
    'current-context: x',
    '',
  ].join('\n');
}

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test("loadKubeConfig() reads KUBECONFIG and takes the context's namespace", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'a'), kubeconfig('https://a.example:6443', 'team-a'));
  const loaded = loadKubeConfig({ env: { KUBECONFIG: join(dir, 'a') }, home: dir });
  t.equal(loaded.namespace, 'team-a');
  t.equal(loaded.server, 'https://a.example:6443');
  t.equal(loaded.source, join(dir, 'a'));
});

t.test('loadKubeConfig() merges a KUBECONFIG list, skips missing files, and defaults the namespace', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'b'), kubeconfig('https://b.example'));
  const loaded = loadKubeConfig({ env: { KUBECONFIG: [join(dir, 'missing'), join(dir, 'b')].join(delimiter) }, home: dir });
  t.equal(loaded.namespace, 'default');
  t.equal(loaded.server, 'https://b.example');
});

t.test('loadKubeConfig() falls back to ~/.kube/config; an explicit path wins over both', async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, '.kube'));
  writeFileSync(join(dir, '.kube', 'config'), kubeconfig('https://home.example', 'home'));
  writeFileSync(join(dir, 'explicit'), kubeconfig('https://explicit.example', 'e'));
  t.equal(loadKubeConfig({ env: {}, home: dir }).namespace, 'home');
  t.equal(loadKubeConfig({ env: { KUBECONFIG: join(dir, 'nothing') }, home: dir, kubeconfig: join(dir, 'explicit') }).namespace, 'e');
});

t.test('loadKubeConfig() with nothing to load throws no-kubeconfig; a broken file throws bad-kubeconfig', async (t) => {
  const dir = scratch(t);
  t.throws(() => loadKubeConfig({ env: {}, home: dir }), { kind: 'no-kubeconfig', message: /^no kubeconfig: set KUBECONFIG/ });
  t.throws(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, 'nope') }, home: dir }), { kind: 'no-kubeconfig', message: `no kubeconfig: ${join(dir, 'nope')} does not exist` });
  writeFileSync(join(dir, 'broken'), 'clusters: [ this is not yaml');
  t.throws(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, 'broken') }, home: dir }), { kind: 'bad-kubeconfig', message: /^cannot read kubeconfig / });
  writeFileSync(join(dir, 'empty'), 'apiVersion: v1\nkind: Config\n');
  t.throws(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, 'empty') }, home: dir }), { kind: 'bad-kubeconfig', message: /has no current context/ });
});

t.test('loadKubeConfig() inside a pod uses the service account and its namespace', async (t) => {
  const root = scratch(t);
  const account = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(account, { recursive: true });
  writeFileSync(join(account, 'token'), 'token');
  writeFileSync(join(account, 'namespace'), 'in-pod');
  writeFileSync(join(account, 'ca.crt'), '');
  const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const saved = { ...process.env };
  Object.assign(process.env, env); // loadFromCluster reads the address from process.env
  t.teardown(() => {
    delete process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_PORT;
    Object.assign(process.env, saved);
  });
  const loaded = loadKubeConfig({ env, home: root, rootDir: root });
  t.equal(loaded.namespace, 'in-pod');
  t.equal(loaded.server, 'https://10.96.0.1:443');
  t.equal(loaded.source, 'in-cluster service account');
});

t.test('loadKubeConfig() of an http:// server without insecure-skip-tls-verify talks to it (kubectl proxy)', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  api.put(service('affinity-tester', { ingress: [{ ip: '192.0.2.1' }] }));
  const dir = scratch(t);
  const yaml = api.kubeconfigYaml().replace(/^\s*insecure-skip-tls-verify: true\n/m, '');
  t.notMatch(yaml, /insecure-skip-tls-verify/, 'the kubeconfig does not turn TLS verification off');
  writeFileSync(join(dir, 'proxy'), yaml);
  const loaded = loadKubeConfig({ env: { KUBECONFIG: join(dir, 'proxy') }, home: dir });
  t.equal(loaded.server, api.url);
  const read = await loaded.kubeConfig.makeApiClient(CoreV1Api).readNamespacedService({ name: 'affinity-tester', namespace: 'testing' });
  t.equal(read.metadata?.name, 'affinity-tester');
});

t.test('loadKubeConfig() leaves an https:// server verified', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'a'), kubeconfig('https://a.example:6443'));
  t.equal(loadKubeConfig({ env: { KUBECONFIG: join(dir, 'a') }, home: dir }).kubeConfig.getCurrentCluster()?.skipTLSVerify, false);
});

t.test("connectKube() takes a given KubeConfig and the context's namespace unless one is named", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'a'), kubeconfig('https://a.example:6443', 'team-a'));
  const { kubeConfig } = loadKubeConfig({ env: { KUBECONFIG: join(dir, 'a') }, home: dir });
  t.same(connectKube({ kubeConfig }), { kubeConfig, namespace: 'team-a', server: 'https://a.example:6443' });
  t.equal(connectKube({ kubeConfig, namespace: 'other' }).namespace, 'other');
  t.equal(connectKube({ search: { env: { KUBECONFIG: join(dir, 'a') }, home: dir } }).namespace, 'team-a', 'without one it loads the kubeconfig');
  t.throws(() => connectKube({ search: { env: {}, home: dir } }), { kind: 'no-kubeconfig', message: /^no kubeconfig: / });
});
