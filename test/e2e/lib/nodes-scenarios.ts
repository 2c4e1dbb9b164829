// The mission's own story: a load balancer in front of several nodes, and a node joining or
// leaving its pool while the real client runs. Each scenario is a start state and a few changes
// of the cluster (nodes-cluster.ts); the runner applies them the way the cluster would (kube-proxy
// syncs every node, deletes the conntrack entries of departed pods, then the balancer's health
// checks change its pool), looks at the kernel before, after each change and at the end (the
// balancer's route for every flow, every node's conntrack), and compares the client's report
// with that ground truth (nodes-truth.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { poolOf, type Hashing, type TrafficPolicy } from './balancer.js';
import { ClientRun, type ClientSettings, type ReportView } from './client-run.js';
import { departedPods, endpointsSeenBy, nodesUp, nodeStates, type ClusterState } from './nodes-cluster.js';
import type { NodesBed } from './nodes-bed.js';
import { nodeOfPodIp, type NodesBedPlan } from './nodes-plan.js';
import { nodesTruth, reportedClasses, type KernelStep, type NodesTruth } from './nodes-truth.js';
import { changedSessions, check, same, type Check } from './observation.js';
import type { ScenarioOutcome } from './scenarios.js';
import type { ServiceSpec } from './service.js';
import type { Layout } from './test-bed.js';

/** What a scenario's checks get to look at. */
export interface NodesRun {
  report: ReportView;
  truth: NodesTruth;
  /** The kernel before the first change, after each change, and at the end. */
  looks: KernelStep[];
}

export interface NodesScenario {
  id: number;
  title: string;
  policy: TrafficPolicy;
  hashing: Hashing;
  start: ClusterState;
  changes: readonly ClusterState[];
  checks(run: NodesRun): Check[];
}

/**
 * Short runs: the sessions are established and settled before the first change, and the client
 * runs on after the last one however long the changes took (ClientRun.end()).
 */
const SETTINGS: ClientSettings = { sessions: 24, intervalMs: 100, timeoutMs: 500, rampMs: 400, durationMs: 2000 };

/** The nodes bed has three nodes; the third joins or leaves. */
export const NODES = 3;
const NEW_NODE = 'node-3';

export function loadBalancerService(plan: NodesBedPlan, policy: TrafficPolicy): ServiceSpec {
  return {
    namespace: 'default',
    name: 'affinity-tester',
    portName: 'stun',
    clusterIp: plan.clusterIp,
    port: plan.servicePort,
    sessionAffinity: 'None',
    stickySeconds: 10800,
    clusterCidr: plan.clusterCidr,
    loadBalancerIp: plan.serviceIp,
    externalTrafficPolicy: policy,
  };
}

/** `8 node-2→node-3, 4 node-1→node-2`: the kernel's moves, most common first. */
function movesText(truth: NodesTruth): string {
  const paths = [...truth.moves].sort((a, b) => b[1].length - a[1].length);
  return paths.map(([path, sessions]) => `${sessions.length} ${path}`).join(', ') || 'none';
}

/** Sessions routed to `node` in `look`. */
function sessionsOn(run: NodesRun, look: KernelStep, node: string): number[] {
  return run.report.sessions.filter((s) => s.localPort !== null && look.routes.get(s.localPort) === node).map((s) => s.session);
}

const scaleUpCluster: NodesScenario = {
  id: 9,
  title: 'node scale-up, externalTrafficPolicy Cluster (ECMP hash-threshold)',
  policy: 'Cluster',
  hashing: 'hash-threshold',
  start: ['ready', 'ready', 'absent'],
  changes: [['ready', 'ready', 'no-pod']],
  checks: (run) => [
    // Each re-hashed flow reaches a node that masquerades it with its own address.
    same('exactly the re-hashed flows report an address change', changedSessions(run.report, 'address-change'), run.truth.moved),
    check('pod changes only on re-hashed flows', changedSessions(run.report, 'pod-change').every((s) => run.truth.moved.includes(s))),
  ],
};

const scaleUpLocal: NodesScenario = {
  id: 10,
  title: 'node scale-up, externalTrafficPolicy Local: the node joins once its pod is ready',
  policy: 'Local',
  hashing: 'hash-threshold',
  start: ['ready', 'ready', 'absent'],
  changes: [
    ['ready', 'ready', 'no-pod'],
    ['ready', 'ready', 'ready'],
  ],
  checks: (run) => [
    same(`no flow goes to ${NEW_NODE} while it has no ready pod`, sessionsOn(run, run.looks[1]!, NEW_NODE), []),
    same('no address change: the client address is kept', run.report.totals.addressChanges, 0),
    same('exactly the re-hashed flows report a pod change', changedSessions(run.report, 'pod-change'), run.truth.moved),
  ],
};

const drainCluster: NodesScenario = {
  id: 11,
  title: 'node drain (its pod leaves), then removal from the pool, externalTrafficPolicy Cluster',
  policy: 'Cluster',
  hashing: 'hash-threshold',
  start: ['ready', 'ready', 'ready'],
  changes: [
    ['ready', 'ready', 'no-pod'],
    ['ready', 'ready', 'absent'],
  ],
  checks: (run) => {
    const onNode = sessionsOn(run, run.looks[0]!, NEW_NODE);
    const stayed = onNode.filter((s) => !run.truth.moved.includes(s));
    return [
      check(`some flows were on ${NEW_NODE}`, onNode.length > 0),
      same(`every flow on ${NEW_NODE} moved to another node`, stayed, []),
      same(
        'no session ends on pod-3',
        run.report.sessions.filter((s) => s.pod === 'pod-3').map((s) => s.session),
        [],
      ),
    ];
  },
};

const scaleUpResilient: NodesScenario = {
  id: 12,
  title: 'node scale-up, externalTrafficPolicy Cluster, consistent hashing (resilient nexthop group)',
  policy: 'Cluster',
  hashing: 'resilient',
  start: ['ready', 'ready', 'absent'],
  changes: [['ready', 'ready', 'no-pod']],
  checks: (run) => [
    same(
      `every re-hashed flow went to the new ${NEW_NODE}, none between the old nodes`,
      [...run.truth.moves.keys()].filter((path) => !path.endsWith(`→${NEW_NODE}`) || path.split('→').length !== 2),
      [],
    ),
    same('exactly the re-hashed flows report an address change', changedSessions(run.report, 'address-change'), run.truth.moved),
  ],
};

export const NODES_SCENARIOS: readonly NodesScenario[] = [scaleUpCluster, scaleUpLocal, drainCluster, scaleUpResilient];

/**
 * The cluster moves from `before` to `after`: kube-proxy syncs on every node (an absent node's
 * rules are synced too, as a node booting syncs before it joins; no pool sends to it), the
 * departed pods' flows are deleted on the nodes that are up, then the pool follows. The nodes
 * are synced at once, so that a change takes little time on a loaded machine.
 */
async function applyState(bed: NodesBed, layout: Layout, scenario: NodesScenario, service: ServiceSpec, before: ClusterState | undefined, after: ClusterState): Promise<void> {
  const plan = bed.plan;
  await Promise.all(plan.nodes.map((node) => bed.syncNode(node, layout, service, endpointsSeenBy(plan, after, node))));
  if (before !== undefined) {
    const departed = departedPods(plan, before, after);
    await Promise.all(nodesUp(plan, after).flatMap((node) => departed.map((pod) => bed.deleteEndpointFlows(node, pod.ip))));
  }
  await bed.setPool(scenario.hashing, poolOf(scenario.policy, nodeStates(plan, after)));
}

/** Every node's conntrack entries for the Service. */
async function allFlows(bed: NodesBed): Promise<KernelStep['flows']> {
  return new Map(await Promise.all(bed.plan.nodes.map(async (node) => [node.name, await bed.nodeFlows(node)] as const)));
}

/** The kernel now: every node's conntrack, and the balancer's route for each of the client's source ports. */
async function look(bed: NodesBed, ports: readonly number[]): Promise<KernelStep> {
  const [flows, routes] = await Promise.all([allFlows(bed), bed.routes(ports)]);
  return { routes, flows };
}

/** The client's source ports, from the flows the nodes hold (the client has no NAT). */
function clientPorts(flows: KernelStep['flows']): number[] {
  const ports = new Set<number>();
  for (const byClient of flows.values()) for (const client of byClient.keys()) ports.add(Number(client.slice(client.lastIndexOf(':') + 1)));
  return [...ports].sort((a, b) => a - b);
}

export async function runNodesScenario(bed: NodesBed, layout: Layout, scenario: NodesScenario, keepAs?: string): Promise<ScenarioOutcome> {
  const plan = bed.plan;
  const service = loadBalancerService(plan, scenario.policy);
  await bed.reset();
  await applyState(bed, layout, scenario, service, undefined, scenario.start);
  const run = new ClientRun(bed, SETTINGS, { acts: true, keepAs });
  await run.waitEstablished();
  const settle = () => sleep(3 * SETTINGS.intervalMs);
  await settle();
  const flows = await allFlows(bed);
  const ports = clientPorts(flows);
  const looks: KernelStep[] = [{ routes: await bed.routes(ports), flows }];
  let state = scenario.start;
  for (const next of scenario.changes) {
    await applyState(bed, layout, scenario, service, state, next);
    state = next;
    // Every session sends at least once across the change before the kernel is looked at.
    await settle();
    looks.push(await look(bed, ports));
  }
  const client = await run.end();
  looks.push(await look(bed, ports));
  const { report } = client;
  const truth = nodesTruth({ clientIp: plan.clientIp, steps: looks, podName: (ip) => nodeOfPodIp(plan, ip)?.pod.name ?? ip, report });
  const nodesRun: NodesRun = { report, truth, looks };
  const checks = [
    same('every session established', report.sessions.filter((s) => s.pod !== null).length, SETTINGS.sessions),
    check('the balancer moved some flows to another node', truth.moved.length > 0),
    check(
      "every session's pods and reflected addresses, in order, are those of the node the balancer routed it to, by that node's conntrack",
      truth.wrong.length === 0,
      truth.wrong.join('; ') || undefined,
    ),
    same("reported pod changes equal the kernel's", report.totals.podChanges, truth.podChanges),
    same("reported address changes equal the kernel's", report.totals.addressChanges, truth.addressChanges),
    ...scenario.checks(nodesRun),
  ];
  const classes = reportedClasses(report as typeof report & { breaks?: { findings: { type: string; class?: string }[] } });
  return {
    id: scenario.id,
    title: scenario.title,
    layout,
    family: 4,
    expected: `flows moved ${truth.moved.length}/${SETTINGS.sessions} (${movesText(truth)}), pod changes ${truth.podChanges}, address changes ${truth.addressChanges}`,
    reported: `pod changes ${report.totals.podChanges}, address changes ${report.totals.addressChanges}${classes === undefined ? '' : `; classes: ${classes}`}`,
    checks,
    pass: checks.every((c) => c.pass),
    client,
  };
}
