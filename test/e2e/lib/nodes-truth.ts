// The several-nodes bed's ground truth, pure: from the balancer's route for each flow and each
// node's conntrack table, taken before the change, after each step of it and at the end, what
// every session should report (its nodes, pods and reflected addresses, in order), and which
// sessions reported something else.
//
// The client has no NAT of its own, so a flow is the client's address and source port, the
// same on the balancer (where the route look-up hashes it) and on every node (conntrack's
// original tuple). The node the balancer routes it to holds the entry that tells the pod (the
// reply's source) and the address the pod saw (the reply's destination: the node's own address
// and a masquerade port under `Cluster`, the client's address under `Local`).
import { formatEndpoint } from '../../../common/ip-address.js';
import type { ReportView } from './client-run.js';
import { firstMapped, firstPod } from './observation.js';

/** One look at the kernel. */
export interface KernelStep {
  /** The node the balancer routes each of the client's source ports to. */
  routes: ReadonlyMap<number, string>;
  /** Per node: its conntrack entries for the Service, by the client's `ip:port`. */
  flows: ReadonlyMap<string, ReadonlyMap<string, { backend: string; seen: string }>>;
}

export interface NodesTruthInput {
  clientIp: string;
  steps: readonly KernelStep[];
  /** The pod's name for a pod address. */
  podName(ip: string): string;
  report: Pick<ReportView, 'sessions' | 'events'>;
}

export interface NodesTruth {
  /** Sessions whose flow the balancer routed to another node, in session order. */
  moved: number[];
  /** The moved sessions by their nodes in order, e.g. `node-1→node-3` → [4, 9]. */
  moves: Map<string, number[]>;
  podChanges: number;
  addressChanges: number;
  /** One line per session whose report disagrees with the kernel, or that the kernel cannot place. */
  wrong: string[];
}

function collapse<T>(items: readonly T[]): T[] {
  return items.filter((item, i) => i === 0 || item !== items[i - 1]);
}

export function nodesTruth(input: NodesTruthInput): NodesTruth {
  const truth: NodesTruth = { moved: [], moves: new Map(), podChanges: 0, addressChanges: 0, wrong: [] };
  const { report } = input;
  for (const s of report.sessions) {
    if (s.localPort === null) {
      truth.wrong.push(`#${s.session}: no local port in the report`);
      continue;
    }
    const client = formatEndpoint(input.clientIp, s.localPort);
    const nodes: string[] = [];
    const pods: string[] = [];
    const addresses: string[] = [];
    let placed = true;
    input.steps.forEach((step, i) => {
      const node = step.routes.get(s.localPort!);
      const flow = node === undefined ? undefined : step.flows.get(node)?.get(client);
      if (node === undefined || flow === undefined) {
        truth.wrong.push(`#${s.session}: ${node === undefined ? 'no route' : `no conntrack entry on ${node}`} for ${client} at look ${i + 1}`);
        placed = false;
        return;
      }
      nodes.push(node);
      pods.push(input.podName(flow.backend));
      addresses.push(flow.seen);
    });
    if (!placed) continue;
    const nodePath = collapse(nodes);
    const kernel = { pods: collapse(pods), addresses: collapse(addresses) };
    if (nodePath.length > 1) {
      truth.moved.push(s.session);
      const path = nodePath.join('→');
      truth.moves.set(path, [...(truth.moves.get(path) ?? []), s.session]);
    }
    truth.podChanges += kernel.pods.length - 1;
    truth.addressChanges += kernel.addresses.length - 1;
    const reported = {
      pods: [firstPod(report as ReportView, s.session), ...report.events.filter((e) => e.type === 'pod-change' && e.session === s.session).map((e) => e.to)],
      addresses: [
        firstMapped(report as ReportView, s.session),
        ...report.events.filter((e) => e.type === 'address-change' && e.session === s.session).map((e) => e.to),
      ],
    };
    if (JSON.stringify(reported.pods) !== JSON.stringify(kernel.pods)) {
      truth.wrong.push(`#${s.session} pods ${reported.pods.join(' -> ')}, kernel ${kernel.pods.join(' -> ')}`);
    }
    if (JSON.stringify(reported.addresses) !== JSON.stringify(kernel.addresses)) {
      truth.wrong.push(`#${s.session} addresses ${reported.addresses.join(' -> ')}, kernel ${kernel.addresses.join(' -> ')}`);
    }
  }
  return truth;
}

/**
 * The affinity verdict's classes the client gave its moves (issue 9: `violation`, `expected`),
 * from the report's `breaks` section (or events that carry a class), e.g. `violation 7,
 * expected 3`; undefined when the client's report has none (a client from before the verdict).
 */
export function reportedClasses(report: Pick<ReportView, 'events'> & { breaks?: { findings: readonly { type: string; class?: string }[] } }): string | undefined {
  const counts = new Map<string, number>();
  const classed = report.breaks?.findings.filter((f) => f.type === 'move') ?? (report.events as readonly { class?: unknown }[]);
  for (const item of classed) {
    if (typeof item.class === 'string') counts.set(item.class, (counts.get(item.class) ?? 0) + 1);
  }
  return counts.size === 0 ? undefined : [...counts].map(([name, count]) => `${name} ${count}`).join(', ');
}
