import t from 'tap';
import { runPrefix } from './lib/bed-plan.js';
import { nodeByIp, nodeOfPodIp, nodesInterfaceNames, nodesNamespaceNames, planNodesBed } from './lib/nodes-plan.js';

t.test('planNodesBed() names everything with the run prefix, within the 15-byte interface limit, all distinct', async (t) => {
  const prefix = `${runPrefix(4_194_304)}ni-`; // the largest Linux pid, and the suite's bed key
  const plan = planNodesBed(prefix, 4);
  const names = [...nodesNamespaceNames(plan), ...nodesInterfaceNames(plan)];
  for (const name of names) t.ok(name.startsWith(prefix), name);
  for (const name of nodesInterfaceNames(plan)) t.ok(name.length <= 15, `${name} fits`);
  t.equal(new Set(nodesInterfaceNames(plan)).size, nodesInterfaceNames(plan).length);
  t.same(nodesNamespaceNames(plan).length, 2 + 2 * 4);
});

t.test('planNodesBed() gives each node an address on the balancer\'s /26, a /28 of pods, one pod and a next-hop id', async (t) => {
  const plan = planNodesBed('at1-', 3);
  t.same(
    plan.nodes.map((n) => [n.name, n.ip, n.podCidr, n.bridgeIp, n.pod.name, n.pod.ip, n.nexthopId]),
    [
      ['node-1', '203.0.113.11', '198.51.100.16/28', '198.51.100.17', 'pod-1', '198.51.100.26', 1],
      ['node-2', '203.0.113.12', '198.51.100.32/28', '198.51.100.33', 'pod-2', '198.51.100.42', 2],
      ['node-3', '203.0.113.13', '198.51.100.48/28', '198.51.100.49', 'pod-3', '198.51.100.58', 3],
    ],
  );
  t.same([plan.clientIp, plan.balancerInsideIp, plan.balancerVpcIp, plan.serviceIp, plan.clusterIp], ['192.0.2.10', '192.0.2.1', '203.0.113.1', '203.0.113.100', '203.0.113.200']);
  t.same(plan.prefixLengths, { clientLan: 24, vpc: 26, pods: 28 });
  t.equal(nodeByIp(plan, '203.0.113.12')?.name, 'node-2');
  t.equal(nodeOfPodIp(plan, '198.51.100.58')?.name, 'node-3');
  t.equal(nodeByIp(plan, '203.0.113.100'), undefined, 'the load balancer address is no node\'s');
});

t.test('planNodesBed() refuses fewer than 2 or more than 4 nodes, and a prefix too long for interface names', async (t) => {
  t.throws(() => planNodesBed('at1-', 1), RangeError);
  t.throws(() => planNodesBed('at1-', 5), RangeError);
  t.throws(() => planNodesBed('a-long-prefix-', 2), /longer than 15 bytes/);
});
