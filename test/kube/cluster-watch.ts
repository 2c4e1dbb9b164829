import t, { type Test } from 'tap';
import type { ClusterEvent, ClusterWatch } from '../../common/cluster-events.js';
import { startClusterWatch } from '../../kube/cluster-watch.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { kubeConfigOf } from '../fixtures/fake-kube-config.js';
import { endpointSlice, event, node, pod, service } from '../fixtures/kube-objects.js';

interface Setup {
  api: FakeKubeApi;
  watch: ClusterWatch;
  seen: ClusterEvent[];
  clock: { now: number };
  warnings: string[];
  /** Resolves when `count` events have been seen in total. */
  until(count: number): Promise<void>;
}

async function setup(t: Test, options: { goneAs?: 'event' | 'status'; before?: (api: FakeKubeApi) => void } = {}): Promise<Setup> {
  const api = await FakeKubeApi.start(options.goneAs ? { goneAs: options.goneAs } : {});
  api.put(service('affinity-tester'));
  api.put(pod('server-a', { ip: '10.1.0.1', node: 'node-a' }));
  api.put(pod('server-b', { ip: '10.1.0.2', node: 'node-b' }));
  api.put(pod('other', { ip: '10.1.0.9', labels: { app: 'other' } }));
  api.put(endpointSlice('affinity-tester-x1', 'affinity-tester', [
    { ip: '10.1.0.1', pod: 'server-a', node: 'node-a' },
    { ip: '10.1.0.2', pod: 'server-b', node: 'node-b' },
  ]));
  api.put(node('node-a'));
  api.put(node('node-b'));
  api.put(event('old', { reason: 'Scheduled', message: 'assigned', object: 'Pod/server-a' }));
  options.before?.(api);
  const clock = { now: 1_000 };
  const warnings: string[] = [];
  const watch = await startClusterWatch({
    service: 'affinity-tester',
    kubeConfig: kubeConfigOf(api),
    clock: () => clock.now,
    retryDelayMs: 10,
    minWatchMs: 0,
    onWarning: (text) => warnings.push(text),
  });
  const seen: ClusterEvent[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  watch.onEvent((e) => {
    seen.push(e);
    for (const waiter of waiters) if (seen.length >= waiter.count) waiter.resolve();
  });
  t.teardown(async () => {
    await watch.close();
    await api.close();
  });
  const until = (count: number) =>
    new Promise<void>((resolve, reject) => {
      if (seen.length >= count) return resolve();
      const timer = setTimeout(() => reject(new Error(`saw ${seen.length} events, waited for ${count}: ${seen.map((e) => e.text).join('; ')}`)), 5000);
      waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return { api, watch, seen, clock, warnings, until };
}

t.test('startClusterWatch() reports nothing for the state it found and maps pod IPs to pods and nodes', async (t) => {
  const { watch, warnings, api } = await setup(t);
  t.same(watch.events(), [], 'the initial lists (and old events) are state, not news');
  t.same(watch.podForIp('10.1.0.1'), { pod: 'server-a', node: 'node-a' });
  t.same(watch.podForIp('10.1.0.2'), { pod: 'server-b', node: 'node-b' });
  t.equal(watch.podForIp('10.1.0.9'), undefined, 'pods outside the Service selector are not watched');
  t.same(warnings, []);
  const podList = api.requests.find((r) => r.resource === 'pods' && r.verb === 'list');
  t.equal(podList?.query.labelSelector, 'app.kubernetes.io/name=affinity-tester', "pods are selected with the Service's selector");
  const sliceList = api.requests.find((r) => r.resource === 'endpointslices' && r.verb === 'list');
  t.equal(sliceList?.query.labelSelector, 'kubernetes.io/service-name=affinity-tester');
  await api.waitForWatches(4);
  t.equal(api.openWatches, 4, 'pods, endpointslices, nodes and events are watched');
});

t.test('startClusterWatch() stamps each event with the clock it is given, even when that clock steps back', async (t) => {
  const { api, seen, clock, until } = await setup(t);
  clock.now = 50_000;
  api.put(node('node-c', false));
  await until(1);
  // A wall clock stepped back by NTP would do this; the run's clock is the only source of times.
  clock.now = 48_000;
  api.remove('nodes', undefined, 'node-c');
  await until(2);
  t.same(
    seen.map((e) => [e.time, e.kind]),
    [
      [50_000, 'node-added'],
      [48_000, 'node-removed'],
    ],
  );
});

t.test('startClusterWatch() turns pod, endpoint, node and event changes into events in order', async (t) => {
  const { api, watch, seen, clock, until } = await setup(t);
  clock.now = 2_000;
  api.put(node('node-c', false));
  await until(1);
  clock.now = 3_000;
  api.put(node('node-c', true));
  await until(2);
  clock.now = 4_000;
  api.put(pod('server-c', { ip: '10.1.0.3', node: 'node-c', ready: false }));
  await until(3);
  clock.now = 5_000;
  api.put(endpointSlice('affinity-tester-x1', 'affinity-tester', [
    { ip: '10.1.0.1', pod: 'server-a', node: 'node-a' },
    { ip: '10.1.0.2', pod: 'server-b', node: 'node-b', ready: false, terminating: true },
    { ip: '10.1.0.3', pod: 'server-c', node: 'node-c' },
  ]));
  await until(6);
  clock.now = 6_000;
  api.put(pod('server-b', { ip: '10.1.0.2', node: 'node-b', terminating: true, ready: false }));
  await until(8);
  clock.now = 7_000;
  api.put(event('warn-1', { type: 'Warning', reason: 'FailedScheduling', message: '0/3 nodes are\n available', object: 'Pod/pause-1' }));
  await until(9);
  clock.now = 8_000;
  api.remove('pods', undefined, 'server-b');
  api.remove('nodes', undefined, 'node-b');
  await until(11);

  t.same(
    seen.map((e) => [e.time, e.kind, e.subject, e.text]),
    [
      [2_000, 'node-added', 'node-c', 'node node-c added'],
      [3_000, 'node-ready', 'node-c', 'node node-c became Ready'],
      [4_000, 'pod-added', 'server-c', 'pod server-c added on node node-c'],
      [5_000, 'endpoint-terminating', '10.1.0.2', 'endpoint 10.1.0.2 (server-b) terminating'],
      [5_000, 'endpoint-not-ready', '10.1.0.2', 'endpoint 10.1.0.2 (server-b) became not ready'],
      [5_000, 'endpoint-added', '10.1.0.3', 'endpoint 10.1.0.3 (server-c) added'],
      [6_000, 'pod-terminating', 'server-b', 'pod server-b Terminating'],
      [6_000, 'pod-not-ready', 'server-b', 'pod server-b became NotReady'],
      [7_000, 'event', 'pod/pause-1', 'Warning FailedScheduling pod/pause-1: 0/3 nodes are available'],
      [8_000, 'pod-deleted', 'server-b', 'pod server-b deleted'],
      [8_000, 'node-removed', 'node-b', 'node node-b removed'],
    ],
  );
  t.same(watch.events(), seen, 'events() holds every event oldest first');
  t.same(watch.podForIp('10.1.0.3'), { pod: 'server-c', node: 'node-c' }, 'new endpoints are mapped');
  t.same(watch.podForIp('10.1.0.2'), { pod: 'server-b', node: 'node-b' }, 'a gone pod keeps its name for late attribution');
  t.same(
    watch.eventsBefore(6_500, 3, 2_000).map((e) => e.kind),
    ['pod-not-ready', 'pod-terminating', 'endpoint-added'],
    'eventsBefore() is newest first, limited, within the window',
  );
});

t.test('startClusterWatch() reconnects when the watch streams end and misses nothing', async (t) => {
  const { api, seen, until } = await setup(t);
  const before = api.requests.filter((r) => r.verb === 'watch').length;
  api.endWatches();
  await api.waitForWatches(4);
  t.equal(api.requests.filter((r) => r.verb === 'watch').length, before + 4, 'each of the four watches reconnected');
  t.equal(api.requests.filter((r) => r.verb === 'list').length, 4, 'a plain end of stream does not re-list');
  const resumed = api.requests.filter((r) => r.verb === 'watch').slice(-4);
  t.ok(resumed.every((r) => Number(r.query.resourceVersion) > 0), 'it resumes from the last resourceVersion');
  t.ok(resumed.every((r) => r.query.timeoutSeconds === '300' && r.query.allowWatchBookmarks === 'true'), 'with a server-side timeout and bookmarks');
  api.put(pod('server-d', { ip: '10.1.0.4', node: 'node-a' }));
  await until(2);
  t.same(seen.map((e) => e.kind), ['pod-added', 'pod-ready']);
});

for (const goneAs of ['event', 'status'] as const) {
  t.test(`startClusterWatch() re-lists after 410 Gone (sent as ${goneAs === 'event' ? 'an ERROR event' : 'the HTTP status'}) and reports what changed in the gap`, async (t) => {
    const { api, seen, until, watch } = await setup(t, { goneAs });
    // Stop the streams and let the cluster change while no watch is open: the change is only
    // visible through a new list.
    let hold = true;
    api.onRequest((request) => {
      if (hold && request.verb === 'watch') {
        hold = false;
        api.remove('pods', undefined, 'server-a');
        api.put(endpointSlice('affinity-tester-x1', 'affinity-tester', [{ ip: '10.1.0.2', pod: 'server-b', node: 'node-b' }]));
        api.put(event('new', { reason: 'Killing', message: 'Stopping container server', object: 'Pod/server-a' }));
        api.compact();
      }
    });
    api.endWatches();
    await until(3);
    await api.waitForWatches(4);
    t.same(
      seen.map((e) => e.text).sort(),
      ['Normal Killing pod/server-a: Stopping container server', 'endpoint 10.1.0.1 (server-a) removed', 'pod server-a deleted'],
    );
    t.ok(api.requests.filter((r) => r.verb === 'list').length > 4, 'it listed again');
    t.same(watch.podForIp('10.1.0.1'), { pod: 'server-a', node: 'node-a' });
  });
}

t.test('startClusterWatch() forbidden to list nodes warns once, naming verb and resource, and watches the rest', async (t) => {
  const { api, warnings, seen, until } = await setup(t, { before: (api) => api.forbid('list', 'nodes') });
  await api.waitForWatches(3);
  t.same(warnings, ['cluster watch of nodes stopped: forbidden: RBAC does not allow "list" on nodes (cluster-wide); grant it (see manifests/base/rbac.yaml) or use another kubeconfig context']);
  t.equal(api.openWatches, 3);
  api.put(pod('server-e', { ip: '10.1.0.5', ready: false }));
  await until(1);
  t.equal(seen[0]?.kind, 'pod-added');
});

t.test('startClusterWatch() of a missing Service rejects with one line', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  await t.rejects(startClusterWatch({ service: 'missing', kubeConfig: kubeConfigOf(api) }), {
    kind: 'not-found',
    message: 'Service missing not found in namespace testing',
  });
});
