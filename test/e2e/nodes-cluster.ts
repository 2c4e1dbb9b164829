import t from 'tap';
import { departedPods, endpointsSeenBy, nodeStates, nodesUp } from './lib/nodes-cluster.js';
import { planNodesBed } from './lib/nodes-plan.js';

const plan = planNodesBed('at1-', 3);
const [n1, , n3] = plan.nodes as [typeof plan.nodes[0], typeof plan.nodes[0], typeof plan.nodes[0]];

t.test('endpointsSeenBy() lists every ready pod, marking the node\'s own pod local', async (t) => {
  t.same(endpointsSeenBy(plan, ['ready', 'ready', 'no-pod'], n1), [
    { ip: '198.51.100.26', port: 3478, local: true },
    { ip: '198.51.100.42', port: 3478, local: false },
  ]);
  t.same(endpointsSeenBy(plan, ['ready', 'ready', 'no-pod'], n3).filter((e) => e.local), [], 'a node without a ready pod has no local endpoint');
});

t.test('nodesUp() and nodeStates() leave an absent node out and count ready local pods', async (t) => {
  t.same(nodesUp(plan, ['ready', 'no-pod', 'absent']).map((n) => n.name), ['node-1', 'node-2']);
  t.same(
    nodeStates(plan, ['ready', 'no-pod', 'absent']).map((s) => [s.node.name, s.healthy, s.readyLocalEndpoints]),
    [
      ['node-1', true, 1],
      ['node-2', true, 0],
      ['node-3', false, 0],
    ],
  );
  t.same(nodesUp(plan, ['ready']).map((n) => n.name), ['node-1'], 'a state shorter than the plan counts the rest absent');
});

t.test('departedPods() names the pods that stopped being ready endpoints', async (t) => {
  t.same(departedPods(plan, ['ready', 'ready', 'ready'], ['ready', 'ready', 'no-pod']).map((p) => p.name), ['pod-3']);
  t.same(departedPods(plan, ['ready', 'ready', 'no-pod'], ['ready', 'ready', 'absent']), []);
  t.same(departedPods(plan, ['ready', 'ready', 'absent'], ['ready', 'ready', 'ready']), []);
});
