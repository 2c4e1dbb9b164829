import t from 'tap';
import { planBed } from './lib/bed-plan.js';
import { clusterObjects, podStates } from './lib/cluster-api.js';
import { serviceFor } from './lib/scenarios.js';

const plan = planBed('at1-', 4);
const spec = serviceFor(plan);
const base = plan.pods.slice(0, 3).map((p) => ({ ip: p.ip, port: plan.servicePort }));

t.test('podStates() makes the endpoints ready endpoints and the other pods idle, with the changes asked for', async (t) => {
  t.same([...podStates(plan, base)], [
    ['pod-1', 'endpoint'],
    ['pod-2', 'endpoint'],
    ['pod-3', 'endpoint'],
    ['pod-4', 'idle'],
  ]);
  t.same([...podStates(plan, base, { 'pod-2': 'gone', 'pod-3': 'terminating' }).values()], ['endpoint', 'gone', 'terminating', 'idle']);
});

t.test('clusterObjects() publishes the Service, the node, each pod not gone, and the endpoints by pod name', async (t) => {
  const objects = clusterObjects(plan, spec, podStates(plan, base, { 'pod-2': 'gone', 'pod-3': 'terminating' }));
  t.same(
    objects.map((o) => `${o.kind} ${o.metadata?.name}`),
    ['Service affinity-tester', 'Node node-a', 'Pod pod-1', 'Pod pod-3', 'Pod pod-4', 'EndpointSlice affinity-tester-bed'],
  );
  const pod3 = objects.find((o) => o.metadata?.name === 'pod-3')!;
  t.ok(pod3.metadata?.deletionTimestamp, 'the terminating pod is being deleted');
  t.same((pod3.status as { podIP: string }).podIP, '198.51.100.13');
  const slice = objects.at(-1)! as unknown as { metadata: { labels: Record<string, string> }; endpoints: { addresses: string[]; conditions: object; targetRef: { name: string }; nodeName: string }[] };
  t.same(slice.metadata.labels, { 'kubernetes.io/service-name': 'affinity-tester' });
  t.same(
    slice.endpoints.map((e) => [e.addresses[0], e.targetRef.name, e.nodeName, e.conditions]),
    [
      ['198.51.100.11', 'pod-1', 'node-a', { ready: true, serving: true, terminating: false }],
      ['198.51.100.13', 'pod-3', 'node-a', { ready: false, serving: true, terminating: true }],
    ],
    'a ready endpoint, and a terminating one that still serves; neither the gone pod-2 nor the idle pod-4',
  );
});
