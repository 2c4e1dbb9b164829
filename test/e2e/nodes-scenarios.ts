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

type Run = Parameters<(typeof NODES_SCENARIOS)[number]['checks']>[0];

/** Two sessions, #1 staying on node-1 and #2 moving along `path`, reported as `events` say. */
function storyRun(path: [string, string], events: { type: string; session: number }[], finalPod = 'pod-1'): Run {
  const routes = (node: string) => new Map([[40001, 'node-1'], [40002, node]]);
  const sessions = [1, 2].map((session) => ({ session, localPort: 40000 + session, pod: finalPod, mappedAddress: null, lost: 0, lostRequests: 0, lostReplies: 0, podChanges: 0, addressChanges: 0, longestOutageMs: 0 }));
  return {
    report: {
      totals: { sessions: 2, sent: 0, received: 0, lost: 0, late: 0, lostRequests: 0, lostReplies: 0, podChanges: 0, addressChanges: events.filter((e) => e.type === 'address-change').length, lossPercent: 0, longestOutageMs: 0 },
      pods: [],
      sessions,
      events: events.map((e) => ({ ...e, time: '2026-11-29T22:00:01.000Z', silentMs: 100 })),
    },
    truth: { moved: [2], moves: new Map([[path.join('→'), [2]]]), podChanges: 0, addressChanges: 0, wrong: [] },
    looks: [{ routes: routes(path[0]), flows: new Map() }, { routes: routes(path[1]), flows: new Map() }],
  };
}

const failing = (scenario: (typeof NODES_SCENARIOS)[number], run: Run) => scenario.checks(run).filter((c) => !c.pass).map((c) => c.name);
const [scaleUp, local, drain, resilient] = NODES_SCENARIOS as [(typeof NODES_SCENARIOS)[number], (typeof NODES_SCENARIOS)[number], (typeof NODES_SCENARIOS)[number], (typeof NODES_SCENARIOS)[number]];
const moveOf2 = [{ type: 'address-change', session: 2 }];

t.test('the scale-up checks pass when exactly the re-hashed session changes address, and name what breaks otherwise', async (t) => {
  t.same(failing(scaleUp, storyRun(['node-2', 'node-3'], moveOf2)), []);
  t.same(failing(scaleUp, storyRun(['node-2', 'node-3'], [...moveOf2, { type: 'pod-change', session: 1 }])), ['pod changes only on re-hashed flows']);
  t.same(failing(resilient, storyRun(['node-2', 'node-3'], moveOf2)), []);
  t.same(failing(resilient, storyRun(['node-1', 'node-2'], moveOf2)), ['every re-hashed flow went to the new node-3, none between the old nodes']);
});

t.test('the Local scale-up checks want pod changes only, and no flow on node-3 before its pod is ready', async (t) => {
  t.same(failing(local, storyRun(['node-2', 'node-3'], [{ type: 'pod-change', session: 2 }])), ['no flow goes to node-3 while it has no ready pod']);
  t.same(failing(local, storyRun(['node-2', 'node-2'], [{ type: 'pod-change', session: 2 }])), []);
  t.same(failing(local, storyRun(['node-2', 'node-2'], moveOf2)), ['no address change: the client address is kept', 'exactly the re-hashed flows report a pod change']);
});

t.test('the drain checks want every flow on node-3 moved and no session left on pod-3', async (t) => {
  t.same(failing(drain, storyRun(['node-3', 'node-2'], moveOf2)), []);
  t.same(failing(drain, storyRun(['node-2', 'node-1'], moveOf2, 'pod-3')), ['some flows were on node-3', 'no session ends on pod-3']);
});
