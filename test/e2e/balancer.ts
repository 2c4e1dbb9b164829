import t from 'tap';
import { groupCommand, groupDeleteCommand, nexthopCommand, parseRouteBatch, poolOf, routeBatchCommand, routeBatchInput, serviceRouteCommand } from './lib/balancer.js';
import { planNodesBed } from './lib/nodes-plan.js';

const plan = planNodesBed('at1-', 3);
const [n1, n2, n3] = plan.nodes as [typeof plan.nodes[0], typeof plan.nodes[0], typeof plan.nodes[0]];

t.test('poolOf() keeps every healthy node under Cluster, and under Local only those with a ready local endpoint', async (t) => {
  const states = [
    { node: n1, healthy: true, readyLocalEndpoints: 1 },
    { node: n2, healthy: true, readyLocalEndpoints: 0 },
    { node: n3, healthy: false, readyLocalEndpoints: 1 },
  ];
  t.same(poolOf('Cluster', states).map((n) => n.name), ['node-1', 'node-2']);
  t.same(poolOf('Local', states).map((n) => n.name), ['node-1']);
});

t.test('groupCommand() writes a hash-threshold group, or a resilient one that rebalances at once', async (t) => {
  t.same(groupCommand(plan, 'hash-threshold', [n1, n2], 'add'), ['ip', '-n', 'at1-lb', 'nexthop', 'add', 'id', '100', 'group', '1/2']);
  t.same(groupCommand(plan, 'resilient', [n1, n2, n3], 'replace'), [
    ...['ip', '-n', 'at1-lb', 'nexthop', 'replace', 'id', '100', 'group', '1/2/3'],
    ...['type', 'resilient', 'buckets', '96', 'idle_timer', '0'],
  ]);
  t.throws(() => groupCommand(plan, 'hash-threshold', [], 'add'), RangeError);
});

t.test('nexthopCommand(), groupDeleteCommand() and serviceRouteCommand() work in the balancer\'s namespace', async (t) => {
  t.same(nexthopCommand(plan, n2), ['ip', '-n', 'at1-lb', 'nexthop', 'add', 'id', '2', 'via', '203.0.113.12', 'dev', 'at1-vpc']);
  t.same(groupDeleteCommand(plan), ['ip', '-n', 'at1-lb', 'nexthop', 'del', 'id', '100']);
  t.same(serviceRouteCommand(plan), ['ip', '-n', 'at1-lb', 'route', 'replace', '203.0.113.100/32', 'nhid', '100']);
});

t.test('routeBatchInput() looks up each flow as it arrives from the client, one line per source port', async (t) => {
  t.same(routeBatchCommand(plan), ['ip', '-n', 'at1-lb', '-j', '-batch', '-']);
  t.equal(
    routeBatchInput(plan, [40000, 40001]),
    'route get 203.0.113.100 from 192.0.2.10 iif at1-l0 ipproto udp sport 40000 dport 3478\n' +
      'route get 203.0.113.100 from 192.0.2.10 iif at1-l0 ipproto udp sport 40001 dport 3478\n',
  );
});

t.test('parseRouteBatch() reads the next-hop of each look-up, in order, and says why a line has none', async (t) => {
  // Captured from the bed's balancer (iproute2 6.1).
  const text =
    '[{"dst":"203.0.113.100","from":"192.0.2.10","gateway":"203.0.113.12","dev":"at1-vpc","flags":[],"cache":[],"iif":"at1-l0"}]\n' +
    '[{"dst":"203.0.113.100","from":"192.0.2.10","gateway":"203.0.113.11","dev":"at1-vpc","flags":[],"cache":[],"iif":"at1-l0"}]\n' +
    '[{"type":"local","dst":"192.0.2.1","from":"192.0.2.10","dev":"lo"}]\n' +
    'RTNETLINK answers: Network is unreachable\n';
  t.same(parseRouteBatch(text), [
    { ok: true, gateway: '203.0.113.12' },
    { ok: true, gateway: '203.0.113.11' },
    { ok: false, reason: 'no gateway (not a route through a next-hop)' },
    { ok: false, reason: 'not JSON: RTNETLINK answers: Network is unreachable' },
  ]);
  t.same(parseRouteBatch(''), []);
});
