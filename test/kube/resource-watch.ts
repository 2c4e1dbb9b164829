import { Watch, CoreV1Api } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import type { KubeError } from '../../kube/errors.js';
import { podRecord, type PodLike } from '../../kube/records.js';
import { startResourceWatch, type WatchEventType } from '../../kube/resource-watch.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { kubeConfigOf } from '../fixtures/fake-kube-config.js';
import { pod } from '../fixtures/kube-objects.js';

async function podWatch(t: Test, api: FakeKubeApi) {
  const kubeConfig = kubeConfigOf(api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const lists: Array<{ names: string[]; initial: boolean }> = [];
  const events: Array<[WatchEventType, string]> = [];
  const errors: Array<[string, boolean]> = [];
  const watch = startResourceWatch<PodLike>({
    watch: new Watch(kubeConfig),
    path: '/api/v1/namespaces/testing/pods',
    list: async () => {
      const list = await core.listNamespacedPod({ namespace: 'testing' });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    onList: (items, initial) => lists.push({ names: items.map((item) => podRecord(item).name), initial }),
    onEvent: (type, object) => events.push([type, podRecord(object).name]),
    onError: (error: KubeError, retrying) => errors.push([error.message, retrying]),
    operation: { resource: 'pods', namespace: 'testing' },
    retryDelayMs: 10,
    minWatchMs: 0,
  });
  t.teardown(() => watch.stop());
  return { watch, lists, events, errors };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

t.test('startResourceWatch() retries a list that failed with a server error, then lists as the first time', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  api.put(pod('a'));
  api.failNext('list', 'pods', 500);
  const { watch, lists, errors } = await podWatch(t, api);
  await watch.ready;
  t.equal(errors.length, 1, 'ready resolves after the first attempt, even a failed one');
  t.same(errors[0], ['list pods in namespace testing failed (HTTP 500): fake-kube-api: failing list pods as asked', true]);
  await until(() => lists.length === 1, 'the retried list');
  t.same(lists, [{ names: ['a'], initial: true }], 'the retry is still the initial list');
});

t.test('startResourceWatch() retries a watch that failed with a server error from the same version', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  api.failNext('watch', 'pods', 503);
  const { watch, events, errors, lists } = await podWatch(t, api);
  await watch.ready;
  await api.waitForWatches(1);
  t.same(errors.map(([, retrying]) => retrying), [true]);
  t.equal(watch.stats.lists, 1, 'no re-list for a failed watch');
  api.put(pod('b'));
  await until(() => events.length === 1, 'the event');
  t.same(events, [['ADDED', 'b']]);
  t.equal(lists.length, 1);
});

t.test('startResourceWatch() stops for good on 403 and says it will not retry', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  api.forbid('watch', 'pods');
  const { watch, errors } = await podWatch(t, api);
  await watch.ready;
  await until(() => errors.length === 1, 'the error');
  t.same(errors, [['forbidden: RBAC does not allow "watch" on pods in namespace testing; grant it (see manifests/base/rbac.yaml) or use another kubeconfig context', false]]);
  await watch.stop();
  t.equal(api.openWatches, 0);
});

t.test('startResourceWatch() stop() ends an open watch stream', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  const { watch } = await podWatch(t, api);
  await api.waitForWatches(1);
  await watch.stop();
  await until(() => api.openWatches === 0, 'the stream to close');
  t.equal(watch.stats.watches, 1);
});
