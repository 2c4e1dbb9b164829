// The cluster a several-nodes scenario describes, pure: which nodes are up and whether each runs a
// ready pod of the Service, and what follows from it: the endpoints kube-proxy on each node
// routes to, the balancer's pool, and the pods whose endpoints went away (their conntrack
// entries are deleted on every node).
import type { PodPlan } from './bed-plan.js';
import type { NodeState } from './balancer.js';
import type { NodePlan, NodesBedPlan } from './nodes-plan.js';
import type { Endpoint } from './service.js';

/** A node's condition: not in the cluster, up without a ready pod of the Service, or up with one. */
export type NodeCondition = 'absent' | 'no-pod' | 'ready';

/** One condition per node of the plan, in order. */
export type ClusterState = readonly NodeCondition[];

function conditionOf(plan: NodesBedPlan, state: ClusterState, node: NodePlan): NodeCondition {
  return state[plan.nodes.indexOf(node)] ?? 'absent';
}

/** The nodes that are up (kube-proxy runs and syncs there). */
export function nodesUp(plan: NodesBedPlan, state: ClusterState): NodePlan[] {
  return plan.nodes.filter((node) => conditionOf(plan, state, node) !== 'absent');
}

/** The Service's endpoints as kube-proxy on `node` sees them: every ready pod, those on `node` marked local. */
export function endpointsSeenBy(plan: NodesBedPlan, state: ClusterState, node: NodePlan): Endpoint[] {
  return plan.nodes
    .filter((n) => conditionOf(plan, state, n) === 'ready')
    .map((n) => ({ ip: n.pod.ip, port: plan.servicePort, local: n === node }));
}

/** What the balancer's health checks see of each node. */
export function nodeStates(plan: NodesBedPlan, state: ClusterState): NodeState[] {
  return plan.nodes.map((node) => {
    const condition = conditionOf(plan, state, node);
    return { node, healthy: condition !== 'absent', readyLocalEndpoints: condition === 'ready' ? 1 : 0 };
  });
}

/** Pods that were ready endpoints in `before` and are not in `after`. */
export function departedPods(plan: NodesBedPlan, before: ClusterState, after: ClusterState): PodPlan[] {
  return plan.nodes.filter((n) => conditionOf(plan, before, n) === 'ready' && conditionOf(plan, after, n) !== 'ready').map((n) => n.pod);
}
