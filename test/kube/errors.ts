import t from 'tap';
import { KubeError, statusOf, toKubeError } from '../../kube/errors.js';

const op = { verb: 'list', resource: 'pods', namespace: 'ns', server: 'https://k8s.example:6443' };

t.test('toKubeError() of 403 names the verb, the resource and the namespace', async (t) => {
  const error = toKubeError({ code: 403, body: '{"message":"pods is forbidden"}' }, op);
  t.equal(error.kind, 'forbidden');
  t.equal(error.message, 'forbidden: RBAC does not allow "list" on pods in namespace ns; grant it (see manifests/base/rbac.yaml) or use another kubeconfig context');
  t.match(toKubeError({ statusCode: 403 }, { verb: 'watch', resource: 'nodes' }).message, /"watch" on nodes \(cluster-wide\)/);
});

t.test('toKubeError() of 404, 401, network errors and other statuses gives one line each', async (t) => {
  t.equal(toKubeError({ code: 404 }, { verb: 'get', resource: 'services', namespace: 'ns', name: 'svc' }).message, 'Service svc not found in namespace ns');
  t.equal(toKubeError({ code: 404 }, { verb: 'get', resource: 'deployments.apps', namespace: 'ns', name: 'd' }).message, 'deployments.apps d not found in namespace ns');
  t.equal(toKubeError({ code: 401 }, op).kind, 'unauthorized');
  const refused = Object.assign(new Error('request failed, reason: connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  t.equal(toKubeError(refused, op).message, 'cannot reach the Kubernetes API at https://k8s.example:6443: ECONNREFUSED');
  const nested = new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) });
  t.equal(toKubeError(nested, op).kind, 'unreachable');
  const conflict = toKubeError({ code: 409, body: { message: 'the object has been modified' } }, op);
  t.equal(conflict.message, 'list pods in namespace ns failed (HTTP 409): the object has been modified');
  t.equal(toKubeError(new Error('first\nsecond'), op).message, 'list pods in namespace ns failed: first');
});

t.test('toKubeError() passes a KubeError through, and statusOf() reads code or statusCode', async (t) => {
  const original = new KubeError('no-ingress', 'x');
  t.equal(toKubeError(original, op), original);
  t.equal(statusOf({ code: 410 }), 410);
  t.equal(statusOf({ statusCode: 410 }), 410);
  t.equal(statusOf({ code: 'ECONNRESET' }), undefined);
  t.equal(statusOf(null), undefined);
});
