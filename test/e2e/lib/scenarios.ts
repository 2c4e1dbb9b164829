// The scenarios: each runs the real client against the bed, changes the bed the way a cluster
// changes at a known moment, and compares the client's report with what the kernel did (the
// node's and the NAT's conntrack tables and event log, the loss counters; see observation.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { podByIp, type BedPlan, type PodPlan } from './bed-plan.js';
import { podStates, type BedCluster } from './cluster-api.js';
import type { ClientResult, ClientSettings, ReportView } from './client-run.js';
import {
  changedSessions,
  check,
  finalPodsMatchConntrack,
  firstPod,
  kernelChanges,
  nodeSnapshot,
  pathsMatchKernel,
  same,
  withClient,
  type Check,
} from './observation.js';
import { rebindingTruth } from './rebinding-truth.js';
import type { Endpoint, Family, ServiceSpec } from './service.js';
import type { Layout, TestBed } from './test-bed.js';

export interface ScenarioOutcome {
  id: number;
  title: string;
  layout: Layout;
  /** 'dual': the dual-stack scenario, one bed with both families (dual-stack.ts). */
  family: Family | 'dual';
  expected: string;
  reported: string;
  checks: Check[];
  pass: boolean;
  client: ClientOutput;
  /** Further lines to show under the client's output (a scenario's own table). */
  detail?: string[];
  /** The verdict's classes (issue 9): what the kernel did and what the client reported. */
  classes?: { kernel: ClassCounts; client: ClassCounts };
}

/** Moves off a pod that had left the Service, moves off one still in it, and stuck sessions. */
export interface ClassCounts {
  expected: number;
  violations: number;
  stuck: number;
}

/** What a scenario shows of the client: its exit code and output (several runs' joined, for some). */
export type ClientOutput = Pick<ClientResult, 'code' | 'stdout' | 'stderr'>;

export interface Scenario {
  id: number;
  title: string;
  layouts: readonly Layout[];
  families: readonly Family[];
  /** Needs the Kubernetes API stand-in (the context's `cluster`). */
  usesApi?: boolean;
  /**
   * The TCP scenarios run on a bed of their own (per family and layout) beside the others, with
   * this many pods; the others on the shared bed of PODS pods.
   */
  pods?: number;
  run(context: ScenarioContext): Promise<Omit<ScenarioOutcome, 'id' | 'title' | 'layout' | 'family' | 'pass'>>;
}

export interface ScenarioContext {
  bed: TestBed;
  layout: Layout;
  /** The Service with three endpoints (pod-1..3); pod-4 runs but is not an endpoint. */
  service: ServiceSpec;
  baseEndpoints: Endpoint[];
  /** Where to keep the client's report and events (a path prefix), if anywhere. */
  keepAs?: string;
  /** The Kubernetes API stand-in, for the scenarios that use it. */
  cluster?: BedCluster;
}

/** Short runs, so that the whole suite takes about a minute. */
export const BASE: ClientSettings = { sessions: 24, intervalMs: 100, timeoutMs: 500, rampMs: 400, durationMs: 2800 };

export function serviceFor(plan: BedPlan, sessionAffinity: ServiceSpec['sessionAffinity'] = 'None'): ServiceSpec {
  return {
    namespace: 'default',
    name: 'affinity-tester',
    portName: 'stun',
    clusterIp: plan.serviceIp,
    port: plan.servicePort,
    sessionAffinity,
    stickySeconds: 10800,
    // A port per protocol, as the manifests have: the TCP scenarios connect to the same Service.
    tcpPortName: 'stun-tcp',
  };
}

export function endpointOf(plan: BedPlan, pod: PodPlan): Endpoint {
  return { ip: pod.ip, port: plan.servicePort };
}

/** Puts the bed back to its start: base endpoints, plain NAT, no loss, empty conntrack tables. */
export async function resetBed(context: ScenarioContext, service = context.service): Promise<void> {
  const { bed } = context;
  await bed.clearLoss();
  await bed.setNatMode('masquerade');
  await bed.useLayout(context.layout, service, context.baseEndpoints);
  await bed.flushConntrack(bed.plan.natNamespace);
  await bed.flushConntrack(bed.plan.nodeNamespace);
  for (const pod of bed.plan.pods) if (!bed.runningServers().includes(pod.name)) await bed.startServer(pod);
  context.cluster?.publish(podStates(bed.plan, context.baseEndpoints));
}

function totalsLine(report: ReportView): string {
  const t = report.totals;
  return `pod changes ${t.podChanges}, address changes ${t.addressChanges}, lost ${t.lost}/${t.sent}`;
}

export function sessionsList(sessions: readonly number[]): string {
  return sessions.length === 0 ? 'none' : sessions.map((s) => `#${s}`).join(' ');
}

export function busiestPod(truth: Map<string, string>, among: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const pod of truth.values()) if (among.includes(pod)) counts.set(pod, (counts.get(pod) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? among[0]!;
}

const steadyState: Scenario = {
  id: 1,
  title: 'steady state',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  async run(context) {
    const { bed } = context;
    const observed = await withClient(context, BASE);
    const { client } = observed;
    const { report } = client;
    const { bySeen } = await nodeSnapshot(bed);
    return {
      expected: 'pod changes 0, address changes 0, lost 0',
      reported: totalsLine(report),
      client,
      checks: [
        same('every session established', report.sessions.filter((s) => s.pod !== null).length, BASE.sessions),
        same('no pod change', report.totals.podChanges, 0),
        same('no address change', report.totals.addressChanges, 0),
        same('no loss', report.totals.lost, 0),
        finalPodsMatchConntrack(report, bySeen),
        pathsMatchKernel(bed, observed),
      ],
    };
  },
};

const scaleDown: Scenario = {
  id: 2,
  title: 'scale-down: endpoint removed, its conntrack entries deleted',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  async run(context) {
    const { bed } = context;
    let before = new Map<string, string>();
    let victim = '';
    const observed = await withClient(context, BASE, async () => {
      before = (await nodeSnapshot(bed)).byClient;
      victim = busiestPod(before, context.baseEndpoints.map((e) => podByIp(bed.plan, e.ip)!.name));
      const pod = bed.plan.pods.find((p) => p.name === victim)!;
      await bed.syncEndpoints(context.service, context.baseEndpoints.filter((e) => e.ip !== pod.ip));
      await bed.deleteEndpointFlows(pod.ip);
    });
    const { client, upstream } = observed;
    const { report } = client;
    const { bySeen } = await nodeSnapshot(bed);
    const onVictim = report.sessions.filter((s) => before.get(upstream.get(s.session) ?? '') === victim).map((s) => s.session);
    const changed = changedSessions(report, 'pod-change');
    const wentBack = report.events.filter((e) => e.type === 'pod-change' && e.to === victim);
    const kernel = kernelChanges(bed, observed);
    return {
      expected: `pod changes ${onVictim.length} (the sessions on ${victim}: ${sessionsList(onVictim)}), others none`,
      reported: `pod changes ${report.totals.podChanges} (${sessionsList(changed)}), address changes ${report.totals.addressChanges}`,
      client,
      checks: [
        check(`some sessions were on ${victim} before`, onVictim.length > 0),
        same(`exactly the sessions that were on ${victim} report a pod change`, changed, onVictim),
        same('each of them reports exactly one change', report.totals.podChanges, onVictim.length),
        same(`no session moves to the removed ${victim}`, wentBack.length, 0),
        same('address changes equal those the kernel made (none expected)', report.totals.addressChanges, kernel.addresses),
        finalPodsMatchConntrack(report, bySeen),
        pathsMatchKernel(bed, observed),
      ],
    };
  },
};

const scaleUp: Scenario = {
  id: 3,
  title: 'scale-up: endpoint added, conntrack untouched',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  async run(context) {
    const { bed } = context;
    const newcomer = bed.plan.pods.at(-1)!;
    const observed = await withClient(context, BASE, async () => {
      await bed.syncEndpoints(context.service, [...context.baseEndpoints, endpointOf(bed.plan, newcomer)]);
    });
    const { client } = observed;
    const { report } = client;
    const { bySeen } = await nodeSnapshot(bed);
    const onNewcomer = [...bySeen.values()].filter((pod) => pod === newcomer.name).length;
    return {
      expected: `pod changes 0, address changes 0 (conntrack keeps every flow; ${newcomer.name} gets none)`,
      reported: `${totalsLine(report)}, sessions on ${newcomer.name}: ${report.pods.find((p) => p.pod === newcomer.name)?.sessions ?? 0}`,
      client,
      checks: [
        same('no pod change', report.totals.podChanges, 0),
        same('no address change', report.totals.addressChanges, 0),
        same(`conntrack sends no flow to ${newcomer.name}`, onNewcomer, 0),
        same(`no reply from ${newcomer.name}`, report.pods.find((p) => p.pod === newcomer.name)?.replies ?? 0, 0),
        finalPodsMatchConntrack(report, bySeen),
        pathsMatchKernel(bed, observed),
      ],
    };
  },
};

const conntrackFlush: Scenario = {
  id: 4,
  title: 'kube-proxy restart: whole conntrack table flushed',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  async run(context) {
    const { bed } = context;
    let before = new Map<string, string>();
    const observed = await withClient(context, BASE, async () => {
      before = (await nodeSnapshot(bed)).byClient;
      await bed.flushConntrack(bed.plan.nodeNamespace);
    });
    const { client, upstream } = observed;
    const { report } = client;
    const { byClient: after, bySeen } = await nodeSnapshot(bed);
    // Snapshots before and after the flush show which flows ended on another pod. The event log
    // also shows what a snapshot cannot: a flow re-created while `conntrack -F` walked the table
    // and flushed again can move a session twice, and a reply that raced the flush can leave an
    // entry that makes the node change the session's source port (an address change).
    const moved = report.sessions
      .filter((s) => {
        const key = upstream.get(s.session) ?? '';
        return before.has(key) && before.get(key) !== after.get(key);
      })
      .map((s) => s.session);
    const changed = changedSessions(report, 'pod-change');
    const kernel = kernelChanges(bed, observed);
    const twice = kernel.pods - moved.length;
    const extra = [
      twice === 0 ? '' : `; ${twice} more by flows re-created during the flush`,
      kernel.addresses === 0 ? '' : `; address changes ${kernel.addresses} (node re-mapped ports)`,
    ].join('');
    return {
      expected: `pod changes ${kernel.pods} (${moved.length} flows moved: ${sessionsList(moved)}${extra})`,
      reported: `pod changes ${report.totals.podChanges} (${sessionsList(changed)}), address changes ${report.totals.addressChanges}`,
      client,
      checks: [
        same('reported pod changes equal the moves the kernel made', report.totals.podChanges, kernel.pods),
        pathsMatchKernel(bed, observed),
        check('every session whose flow conntrack moved reports a change', moved.every((n) => changed.includes(n))),
        check(
          'the pod each session started on is the pod conntrack had before the flush',
          report.sessions.every((s) => firstPod(report, s.session) === before.get(upstream.get(s.session) ?? '')),
        ),
        same('address changes equal those the kernel made', report.totals.addressChanges, kernel.addresses),
        finalPodsMatchConntrack(report, bySeen),
      ],
    };
  },
};

const natRebinding: Scenario = {
  id: 5,
  title: "client's NAT rebinds (MASQUERADE --random-fully, NAT conntrack flushed)",
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  async run(context) {
    const { bed } = context;
    const plan = bed.plan;
    let natBefore = new Map<number, number>();
    let podsBefore = new Map<string, string>();
    const { client } = await withClient(context, BASE, async () => {
      natBefore = await bed.natPorts();
      podsBefore = (await nodeSnapshot(bed)).bySeen;
      await bed.setNatMode('masquerade-random-fully');
      await bed.flushConntrack(plan.natNamespace);
    });
    const { report } = client;
    const natAfter = await bed.natPorts();
    // The node's table was not flushed: it holds every binding the pods saw, old, new and any
    // in between (a packet that arrives while `conntrack -F` walks the table can get a binding
    // that the same flush then removes, so that session rebinds twice: the kernel really did).
    const nodeFlows = (await nodeSnapshot(bed)).bySeen;
    const { rebound, extraBindings, expectedPodChanges, wrong } = rebindingTruth({
      publicIp: plan.natPublicIp,
      report,
      natBefore,
      natAfter,
      nodeFlows,
      podsBefore,
    });
    const sample = report.events.find((e) => e.type === 'address-change');
    const extra = extraBindings === 0 ? '' : ` + ${extraBindings} bound twice during the flush`;
    return {
      expected: `address changes ${rebound}${extra} (old/new ports from NAT conntrack), pod changes ${expectedPodChanges}`,
      reported: `address changes ${report.totals.addressChanges}${sample ? ` (e.g. #${sample.session} ${sample.from} -> ${sample.to})` : ''}, pod changes ${report.totals.podChanges}`,
      client,
      checks: [
        check('the NAT gave sessions new ports', rebound > 0),
        check(
          "every session reports its address changes from the NAT's old port to its new one, through only bindings the node saw",
          wrong.length === 0,
          wrong.join('; ') || undefined,
        ),
        same('address changes equal the bindings the kernel made', report.totals.addressChanges, rebound + extraBindings),
        // The node sees brand-new flows, balanced afresh: a rebinding NAT breaks affinity too.
        same('pod changes equal the pod moves along those bindings in the node\'s conntrack', report.totals.podChanges, expectedPodChanges),
        finalPodsMatchConntrack(report, nodeFlows),
      ],
    };
  },
};

const clientIpAffinity: Scenario = {
  id: 6,
  title: 'sessionAffinity ClientIP: conntrack flush, then the pod removed',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  async run(context) {
    const { bed } = context;
    const sticky = serviceFor(bed.plan, 'ClientIP');
    await resetBed(context, sticky);
    let before = new Map<string, string>();
    let afterFlush = new Map<string, string>();
    let removedAt = 0;
    const settings = { ...BASE, durationMs: 3600 };
    const observed = await withClient(context, settings, async () => {
      before = (await nodeSnapshot(bed)).byClient;
      await bed.flushConntrack(bed.plan.nodeNamespace);
      await sleep(700);
      afterFlush = (await nodeSnapshot(bed)).byClient;
      const pinned = bed.plan.pods.find((p) => p.name === [...before.values()][0])!;
      removedAt = Date.now();
      await bed.syncEndpoints(sticky, context.baseEndpoints.filter((e) => e.ip !== pinned.ip));
      await bed.deleteEndpointFlows(pinned.ip);
    });
    const { client } = observed;
    const { report } = client;
    const { bySeen } = await nodeSnapshot(bed);
    const podsBefore = new Set(before.values());
    const podsAfterFlush = new Set(afterFlush.values());
    const changes = report.events.filter((e) => e.type === 'pod-change');
    const targets = new Set(changes.map((e) => e.to));
    const early = changes.filter((e) => Date.parse(e.time) < removedAt);
    const pinned = [...podsBefore][0];
    const kernel = kernelChanges(bed, observed);
    return {
      expected: `all ${settings.sessions} sessions on one pod (${[...podsBefore].join(',')}); flush: 0 changes; removal: ${settings.sessions} changes to one pod`,
      reported: `pod changes ${report.totals.podChanges} (${early.length} before the removal), to ${[...targets].join(',') || 'none'}, address changes ${report.totals.addressChanges}`,
      client,
      checks: [
        same('conntrack pins every flow to one pod', podsBefore.size, 1),
        same('the flush does not move them (conntrack after the flush)', [...podsAfterFlush], [...podsBefore]),
        same('no pod change reported through the flush', early.length, 0),
        same('every session reports one change when its pod is removed', changedSessions(report, 'pod-change').length, settings.sessions),
        same('they all move together, to one pod', targets.size, 1),
        check(`none moves back to ${pinned}`, !targets.has(pinned ?? '')),
        // A reply racing the flush can make the node re-map a session's port (see scenario 4).
        same('address changes equal those the kernel made', report.totals.addressChanges, kernel.addresses),
        finalPodsMatchConntrack(report, bySeen),
        pathsMatchKernel(bed, observed),
      ],
    };
  },
};

const LOSS = 0.1;

const packetLoss: Scenario = {
  id: 7,
  title: '10% loss each way',
  layouts: ['iptables'],
  families: [4],
  async run(context) {
    const { bed } = context;
    await bed.setLoss(LOSS);
    // About 3,000 requests: the binomial sd of the loss is then 0.7 points.
    const settings: ClientSettings = { sessions: 40, intervalMs: 50, timeoutMs: 400, rampMs: 400, durationMs: 4400 };
    const observed = await withClient(context, settings);
    const { client } = observed;
    const counters = await bed.lossCounters();
    await bed.clearLoss();
    const { report } = client;
    const t = report.totals;
    const expectedPercent = (1 - (1 - LOSS) ** 2) * 100;
    // The kernel's draws, not the tool, decide how far the loss lands from 19%: five binomial
    // standard deviations of this run's requests (3.4 points at 3,400), at least 2. A bed that
    // dropped one way only (10%) is still off by more than twice that.
    const p = expectedPercent / 100;
    const tolerance = Math.max(2, 5 * Math.sqrt((p * (1 - p)) / Math.max(1, t.sent)) * 100);
    const actualPercent = (1 - (1 - counters.requestsDropped / counters.requestsSeen) * (1 - counters.repliesDropped / counters.repliesSeen)) * 100;
    const requestShare = t.lost === 0 ? 0 : t.lostRequests / t.lost;
    const kernelShare = counters.requestsDropped / (counters.requestsDropped + counters.repliesDropped);
    // The client stops with requests in flight: those are pending, neither lost nor answered.
    const slack = (report.pendingAtStop ?? 0) + Math.ceil(0.01 * t.sent);
    // A loss is attributed when a later reply of the session carries the server's counter; a
    // session's losses after its last answer have none. Those grow on a starved machine (35
    // against 34 allowed, the suite beside two busy cores), so two per session are allowed on
    // top. A broken attribution leaves hundreds.
    const unattributed = t.lost - t.lostRequests - t.lostReplies;
    const unattributedSlack = slack + 2 * settings.sessions;
    return {
      expected: `loss ${expectedPercent.toFixed(1)}% ±${tolerance.toFixed(1)} (kernel dropped ${counters.requestsDropped} requests, ${counters.repliesDropped} replies: ${actualPercent.toFixed(1)}%)`,
      reported: `loss ${t.lossPercent.toFixed(1)}% (${t.lost}/${t.sent}): ${t.lostRequests} lost requests, ${t.lostReplies} lost replies`,
      client,
      checks: [
        check(`reported loss within ${tolerance.toFixed(1)} points (5 sd) of 19%`, Math.abs(t.lossPercent - expectedPercent) <= tolerance, `${t.lossPercent}%`),
        check('reported loss within 1.5 points of what the kernel dropped', Math.abs(t.lossPercent - actualPercent) <= 1.5, `${t.lossPercent}% vs ${actualPercent.toFixed(2)}%`),
        check(
          'lost requests match the requests the kernel dropped',
          Math.abs(t.lostRequests - counters.requestsDropped) <= slack,
          `${t.lostRequests} vs ${counters.requestsDropped} (slack ${slack})`,
        ),
        check(
          'lost replies match the replies the kernel dropped',
          Math.abs(t.lostReplies - counters.repliesDropped) <= slack,
          `${t.lostReplies} vs ${counters.repliesDropped} (slack ${slack})`,
        ),
        check('requests vs replies split in the kernel\'s proportion (about half each)', Math.abs(requestShare - kernelShare) <= 0.08, `${(requestShare * 100).toFixed(1)}% vs ${(kernelShare * 100).toFixed(1)}%`),
        check('nearly every loss is attributed to a request or a reply', unattributed <= unattributedSlack, `${unattributed} unattributed (slack ${unattributedSlack})`),
        same('no pod change', t.podChanges, 0),
        pathsMatchKernel(bed, observed),
      ],
    };
  },
};

const serverCrash: Scenario = {
  id: 8,
  title: "pod's server dies, endpoint stays until kube-proxy removes it",
  layouts: ['iptables'],
  families: [4],
  async run(context) {
    const { bed } = context;
    const settings = { ...BASE, durationMs: 3600 };
    const outageMs = 1200;
    let before = new Map<string, string>();
    let victim = '';
    let gapMs = 0;
    const observed = await withClient(context, settings, async () => {
      before = (await nodeSnapshot(bed)).byClient;
      victim = busiestPod(before, context.baseEndpoints.map((e) => podByIp(bed.plan, e.ip)!.name));
      const pod = bed.plan.pods.find((p) => p.name === victim)!;
      const killedAt = Date.now();
      await bed.killServer(pod);
      await sleep(outageMs);
      await bed.syncEndpoints(context.service, context.baseEndpoints.filter((e) => e.ip !== pod.ip));
      await bed.deleteEndpointFlows(pod.ip);
      gapMs = Date.now() - killedAt;
    });
    const { client } = observed;
    const { report } = client;
    const { bySeen: after } = await nodeSnapshot(bed);
    const hit = report.sessions.filter((s) => before.get(observed.upstream.get(s.session) ?? '') === victim);
    const others = report.sessions.filter((s) => !hit.includes(s));
    // The outage runs from the last reply before the kill to the first after the removal: the
    // gap, plus up to one interval before the kill and one after the removal, give or take
    // scheduling on a busy machine.
    const low = gapMs - 50;
    const high = gapMs + 2 * settings.intervalMs + 500;
    const badOutage = hit.filter((s) => s.longestOutageMs < low || s.longestOutageMs > high);
    return {
      expected: `${hit.length} sessions on ${victim} lose and move once, outage ≈ ${gapMs} ms; others nothing`,
      reported: `pod changes ${report.totals.podChanges}, lost ${report.totals.lost}, longest outage ${Math.round(report.totals.longestOutageMs)} ms`,
      client,
      checks: [
        check(`some sessions were on ${victim}`, hit.length > 0),
        check(`each session on ${victim} reports loss`, hit.every((s) => s.lost > 0), hit.map((s) => `#${s.session} lost ${s.lost}`).join(', ')),
        check(`each session on ${victim} moves exactly once, to a live pod`, hit.every((s) => s.podChanges === 1 && s.pod !== victim)),
        check(
          `each session on ${victim} reports an outage of the kill-to-removal gap (${low}-${high} ms)`,
          badOutage.length === 0,
          badOutage.map((s) => `#${s.session} ${s.longestOutageMs} ms`).join(', ') || undefined,
        ),
        check('the other sessions report no change and no loss', others.every((s) => s.podChanges === 0 && s.lost === 0)),
        check('the longest outage in the totals is the gap', report.totals.longestOutageMs >= low && report.totals.longestOutageMs <= high, `${report.totals.longestOutageMs} ms`),
        finalPodsMatchConntrack(report, after),
        pathsMatchKernel(bed, observed),
      ],
    };
  },
};

export const SCENARIOS: readonly Scenario[] = [steadyState, scaleDown, scaleUp, conntrackFlush, natRebinding, clientIpAffinity, packetLoss, serverCrash];
