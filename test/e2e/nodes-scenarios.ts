// The node scenarios' stories as data: the pools each change leads to. Running them against the
// kernel is part of the end-to-end suite (scenarios.ts, `npm run e2e -- --bed nodes`).
import t from 'tap';
import { poolOf } from './lib/balancer.js';
import { nodeStates } from './lib/nodes-cluster.js';
import { planNodesBed } from './lib/nodes-plan.js';
import { loadBalancerService, NODES, NODES_SCENARIOS } from './lib/nodes-scenarios.js';

const plan = planNodesBed('at1-', NODES);

t.test('each node scenario moves the balancer\'s pool as its story says', async (t) => {
  const pools = NODES_SCENARIOS.map((s) => ({
    id: s.id,
    policy: s.policy,
    hashing: s.hashing,
    pools: [s.start, ...s.changes].map((state) => poolOf(s.policy, nodeStates(plan, state)).map((n) => n.name).join('/')),
  }));
  t.same(pools, [
    { id: 9, policy: 'Cluster', hashing: 'hash-threshold', pools: ['node-1/node-2', 'node-1/node-2/node-3'] },
    // The new node is up before its pod is ready, and joins the pool only with the pod.
    { id: 10, policy: 'Local', hashing: 'hash-threshold', pools: ['node-1/node-2', 'node-1/node-2', 'node-1/node-2/node-3'] },
    // Drained first (its pod leaves, the node still forwards), then removed.
    { id: 11, policy: 'Cluster', hashing: 'hash-threshold', pools: ['node-1/node-2/node-3', 'node-1/node-2/node-3', 'node-1/node-2'] },
    { id: 12, policy: 'Cluster', hashing: 'resilient', pools: ['node-1/node-2', 'node-1/node-2/node-3'] },
  ]);
});

t.test('loadBalancerService() is a LoadBalancer Service on the balancer\'s address with the scenario\'s traffic policy', async (t) => {
  const service = loadBalancerService(plan, 'Local');
  t.same(
    [service.loadBalancerIp, service.clusterIp, service.clusterCidr, service.externalTrafficPolicy, service.port],
    ['203.0.113.100', '203.0.113.200', '198.51.100.0/24', 'Local', 3478],
  );
});
