import t from 'tap';
import { delimiter } from 'node:path';
import { findKubeconfig, kubeconfigAvailable, SERVICE_ACCOUNT_DIR, type KubeconfigSearch } from '../../common/kubeconfig-discovery.js';

/** A search over a made-up file system holding exactly `files`. */
function search(files: string[], rest: Partial<KubeconfigSearch> = {}): KubeconfigSearch {
  const present = new Set(files);
  return { env: {}, home: '/home/u', exists: (path) => present.has(path), ...rest };
}

const TOKEN = `${SERVICE_ACCOUNT_DIR}/token`;

t.test('findKubeconfig() takes ~/.kube/config when nothing is named', async (t) => {
  t.same(findKubeconfig(search(['/home/u/.kube/config'])), { kind: 'files', files: ['/home/u/.kube/config'] });
});

t.test('findKubeconfig() takes the existing files of a KUBECONFIG list, in order, over ~/.kube/config', async (t) => {
  const env = { KUBECONFIG: ['/a', '', '/missing', '/b'].join(delimiter) };
  t.same(findKubeconfig(search(['/a', '/b', '/home/u/.kube/config'], { env })), { kind: 'files', files: ['/a', '/b'] });
});

t.test('findKubeconfig() lets --kubeconfig win over KUBECONFIG', async (t) => {
  t.same(findKubeconfig(search(['/a', '/flag'], { env: { KUBECONFIG: '/a' }, kubeconfig: '/flag' })), { kind: 'files', files: ['/flag'] });
});

t.test('findKubeconfig() of named files that all are missing says missing, even inside a pod', async (t) => {
  const env = { KUBECONFIG: '/nope', KUBERNETES_SERVICE_HOST: '10.96.0.1' };
  t.same(findKubeconfig(search([TOKEN, '/home/u/.kube/config'], { env })), { kind: 'missing', files: ['/nope'] });
});

t.test('findKubeconfig() inside a pod needs KUBERNETES_SERVICE_HOST and the service-account token', async (t) => {
  const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
  t.same(findKubeconfig(search([TOKEN], { env })), { kind: 'in-cluster', rootDir: '' });
  t.same(findKubeconfig(search([`/root${TOKEN}`], { env, rootDir: '/root' })), { kind: 'in-cluster', rootDir: '/root' });
  t.same(findKubeconfig(search([], { env })), { kind: 'none' }, 'the variable alone is not enough');
  t.same(findKubeconfig(search([TOKEN])), { kind: 'none' }, 'nor the token alone');
});

t.test('kubeconfigAvailable() is true for files and in-cluster, false for missing and none', async (t) => {
  t.equal(kubeconfigAvailable(search(['/home/u/.kube/config'])), true);
  t.equal(kubeconfigAvailable(search([TOKEN], { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } })), true);
  t.equal(kubeconfigAvailable(search([], { env: { KUBECONFIG: '/nope' } })), false);
  t.equal(kubeconfigAvailable(search([], { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } })), false);
});
