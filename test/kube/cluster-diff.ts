import t from 'tap';
import { endpointChanges, eventChange, nodeChanges, podChanges } from '../../kube/cluster-diff.js';
import type { EndpointRecord } from '../../kube/records.js';

const texts = (events: Array<{ text: string }>) => events.map((e) => e.text);

t.test('podChanges() reports added, ready, not ready, terminating and deleted', async (t) => {
  const pod = { name: 'p', node: 'n', ips: ['10.0.0.1'], ready: false, terminating: false };
  t.same(texts(podChanges(undefined, pod, 1)), ['pod p added on node n']);
  t.same(texts(podChanges(undefined, { ...pod, ready: true, terminating: true }, 1)), ['pod p added on node n', 'pod p became Ready', 'pod p Terminating']);
  t.same(texts(podChanges(pod, { ...pod, ready: true }, 1)), ['pod p became Ready']);
  t.same(texts(podChanges({ ...pod, ready: true }, { ...pod, terminating: true }, 1)), ['pod p Terminating', 'pod p became NotReady']);
  t.same(texts(podChanges(pod, pod, 1)), [], 'no change, no event');
  t.same(podChanges(pod, undefined, 7), [{ time: 7, kind: 'pod-deleted', subject: 'p', text: 'pod p deleted' }]);
  t.same(podChanges(undefined, undefined, 1), []);
});

t.test('endpointChanges() compares by address and names the pod when it is known', async (t) => {
  const a: EndpointRecord = { address: '10.0.0.1', pod: 'a', ready: true, terminating: false };
  const b: EndpointRecord = { address: '2001:db8::2', ready: false, terminating: false };
  const before = new Map([[a.address, a]]);
  const after = new Map([
    [a.address, { ...a, ready: false, terminating: true }],
    [b.address, b],
  ]);
  t.same(texts(endpointChanges(before, after, 1)), [
    'endpoint 10.0.0.1 (a) terminating',
    'endpoint 10.0.0.1 (a) became not ready',
    'endpoint 2001:db8::2 added (not ready)',
  ]);
  t.same(texts(endpointChanges(after, new Map([[b.address, { ...b, ready: true }]]), 1)), ['endpoint 10.0.0.1 (a) removed', 'endpoint 2001:db8::2 became ready']);
  t.same(endpointChanges(before, before, 1), []);
});

t.test('endpointChanges() names the pod of each endpoint event in its pod field, and only when the slice names it', async (t) => {
  const a: EndpointRecord = { address: '10.0.0.1', pod: 'pod-b', ready: true, terminating: false };
  const bare: EndpointRecord = { address: '10.0.0.9', ready: true, terminating: false };
  t.same(endpointChanges(new Map([[a.address, a]]), new Map(), 5), [
    { time: 5, kind: 'endpoint-removed', subject: '10.0.0.1', text: 'endpoint 10.0.0.1 (pod-b) removed', pod: 'pod-b' },
  ]);
  t.same(
    endpointChanges(new Map([[a.address, a]]), new Map([[a.address, { ...a, ready: false, terminating: true }]]), 6).map((e) => [e.kind, e.pod]),
    [
      ['endpoint-terminating', 'pod-b'],
      ['endpoint-not-ready', 'pod-b'],
    ],
  );
  const added = endpointChanges(new Map(), new Map([[bare.address, bare]]), 7);
  t.same(added.map((e) => e.kind), ['endpoint-added']);
  t.notOk('pod' in added[0]!, 'an endpoint without a targetRef carries no pod field');
});

t.test('nodeChanges() reports added, Ready, NotReady and removed', async (t) => {
  t.same(texts(nodeChanges(undefined, { name: 'n', ready: true }, 1)), ['node n added', 'node n became Ready']);
  t.same(texts(nodeChanges(undefined, { name: 'n', ready: false }, 1)), ['node n added']);
  t.same(texts(nodeChanges({ name: 'n', ready: false }, { name: 'n', ready: true }, 1)), ['node n became Ready']);
  t.same(texts(nodeChanges({ name: 'n', ready: true }, { name: 'n', ready: false }, 1)), ['node n became NotReady']);
  t.same(texts(nodeChanges({ name: 'n', ready: true }, undefined, 1)), ['node n removed']);
  t.same(nodeChanges({ name: 'n', ready: true }, { name: 'n', ready: true }, 1), []);
});

t.test('eventChange() makes one line and shortens long messages', async (t) => {
  const event = eventChange({ key: 'k', type: 'Warning', reason: 'FailedScheduling', object: 'pod/x', message: 'y'.repeat(500) }, 3);
  t.equal(event.kind, 'event');
  t.equal(event.subject, 'pod/x');
  t.equal(event.text.length, 'Warning FailedScheduling pod/x: '.length + 160);
  t.ok(event.text.endsWith('…'));
  t.equal(eventChange({ key: 'k', type: 'Normal', reason: 'ScalingReplicaSet', object: 'deployment/d', message: '' }, 3).text, 'Normal ScalingReplicaSet deployment/d');
});
