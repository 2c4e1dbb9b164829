// The cloud load balancer in front of the nodes, as the kernel's multipath routing: which nodes
// are in its pool, the `ip nexthop` group that spreads flows over them, and the route look-up that
// says where one flow goes. Pure: test-bed code runs the argument lists.
//
// Two kinds of balancer:
// - `hash-threshold`: plain ECMP. The L4 hash (net.ipv4.fib_multipath_hash_policy=1: addresses,
//   protocol and ports) is split into N equal ranges, one per next-hop; adding or removing a
//   next-hop shifts every range boundary, so flows move between nodes that stayed as well.
// - `resilient`: a table of hash buckets (kernel 5.13, `type resilient`); a change of the group
//   reassigns only as many buckets as needed to rebalance (with idle_timer 0 at once, like a
//   consistent-hashing balancer such as Maglev), so only the new node's share moves, or only the
//   removed node's flows.
import type { NodePlan, NodesBedPlan } from './nodes-plan.js';

export type Hashing = 'hash-threshold' | 'resilient';
export type TrafficPolicy = 'Cluster' | 'Local';

/** Hash buckets of a resilient group: enough to share evenly among 2 to 4 nodes within a few percent. */
export const RESILIENT_BUCKETS = 96;

export interface NodeState {
  node: NodePlan;
  /** The node is up and kube-proxy answers its health check (not being deleted). */
  healthy: boolean;
  /** Ready endpoints of the Service on this node. */
  readyLocalEndpoints: number;
}

/**
 * The nodes a balancer sends to, as its health checks decide. With `Cluster` every healthy node
 * can forward to any pod, so all of them are in the pool; with `Local` kube-proxy's
 * healthCheckNodePort answers 200 only on a node with a ready local endpoint (503 otherwise), so
 * a node without one leaves the pool.
 */
export function poolOf(policy: TrafficPolicy, states: readonly NodeState[]): NodePlan[] {
  return states.filter((s) => s.healthy && (policy === 'Cluster' || s.readyLocalEndpoints > 0)).map((s) => s.node);
}

/** `ip nexthop add` of one node's next-hop, on the balancer's bridge. */
export function nexthopCommand(plan: NodesBedPlan, node: NodePlan): string[] {
  return ['ip', '-n', plan.balancerNamespace, 'nexthop', 'add', 'id', String(node.nexthopId), 'via', node.ip, 'dev', plan.vpcBridge];
}

/**
 * Creates (`add`) or changes (`replace`) the balancer's group over `pool`. A group's type cannot
 * change in place: switching between the kinds deletes the group first (groupDeleteCommand).
 */
export function groupCommand(plan: NodesBedPlan, hashing: Hashing, pool: readonly NodePlan[], verb: 'add' | 'replace'): string[] {
  if (pool.length === 0) throw new RangeError('a nexthop group needs at least one node');
  const members = pool.map((n) => n.nexthopId).join('/');
  const argv = ['ip', '-n', plan.balancerNamespace, 'nexthop', verb, 'id', String(plan.groupId), 'group', members];
  // idle_timer 0: a bucket counts as idle at once, so a change rebalances immediately instead of
  // waiting for flows to pause (120 s by default).
  if (hashing === 'resilient') argv.push('type', 'resilient', 'buckets', String(RESILIENT_BUCKETS), 'idle_timer', '0');
  return argv;
}

/** Deleting the group also removes the route that uses it. */
export function groupDeleteCommand(plan: NodesBedPlan): string[] {
  return ['ip', '-n', plan.balancerNamespace, 'nexthop', 'del', 'id', String(plan.groupId)];
}

export function serviceRouteCommand(plan: NodesBedPlan): string[] {
  return ['ip', '-n', plan.balancerNamespace, 'route', 'replace', `${plan.serviceIp}/32`, 'nhid', String(plan.groupId)];
}

/** `ip -batch` of route look-ups in the balancer, one JSON array per look-up on its own line. */
export function routeBatchCommand(plan: NodesBedPlan): string[] {
  return ['ip', '-n', plan.balancerNamespace, '-j', '-batch', '-'];
}

/**
 * The route look-ups of the client's flows from `sourcePorts`, as the balancer forwards them:
 * arriving on its client side (`iif`), so that the kernel hashes the 5-tuple a forwarded packet
 * carries (address, protocol and ports, by fib_multipath_hash_policy=1).
 */
export function routeBatchInput(plan: NodesBedPlan, sourcePorts: readonly number[]): string {
  return sourcePorts
    .map((port) => `route get ${plan.serviceIp} from ${plan.clientIp} iif ${plan.balancerInsideInterface} ipproto udp sport ${port} dport ${plan.servicePort}\n`)
    .join('');
}

/**
 * The next-hop address of each look-up in `ip -j -batch` output, in order, e.g.
 * `[{"dst":"203.0.113.100","from":"192.0.2.10","gateway":"203.0.113.12",...}]`; a line without
 * one (no route, or not through a next-hop) gives a reason instead.
 */
export function parseRouteBatch(text: string): ({ ok: true; gateway: string } | { ok: false; reason: string })[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return { ok: false, reason: `not JSON: ${line.slice(0, 80)}` };
      }
      const gateway = Array.isArray(parsed) ? (parsed[0] as { gateway?: unknown } | undefined)?.gateway : undefined;
      return typeof gateway === 'string' ? { ok: true, gateway } : { ok: false, reason: 'no gateway (not a route through a next-hop)' };
    });
}
