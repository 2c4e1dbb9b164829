// Scenario 5's ground truth, pure: given the NAT's bindings before and after it rebinds (from its
// conntrack table), the node's conntrack (every binding the pods saw, and where it went) and the
// client's report, what each session should report, and which sessions reported something else.
//
// A packet that arrives while `conntrack -F` walks the NAT's table can get a binding that the
// same flush then removes; that session rebinds twice (old -> short-lived -> new), and the pods
// really saw the short-lived port. So a reported chain is right when it runs from the old binding
// to the new one, each step starting where the last ended, through only bindings that the node's
// conntrack recorded and that are no other session's old or new binding.
import { formatEndpoint } from '../../../common/ip-address.js';
import type { ReportView } from './client-run.js';

export interface RebindingInput {
  publicIp: string;
  report: Pick<ReportView, 'sessions' | 'events'>;
  /** NAT conntrack: the public port of each client socket, by local port, before and after. */
  natBefore: ReadonlyMap<number, number>;
  natAfter: ReadonlyMap<number, number>;
  /** Node conntrack after the run: pod of each binding (`ip:port`) the pods saw. */
  nodeFlows: ReadonlyMap<string, string>;
  /** Node conntrack before the rebinding, for an old binding the node no longer lists. */
  podsBefore: ReadonlyMap<string, string>;
}

export interface RebindingTruth {
  /** Sessions whose binding changed. */
  rebound: number;
  /** Short-lived bindings in between, each one more address change. */
  extraBindings: number;
  /** Pod moves along each session's chain of bindings, by the node's conntrack. */
  expectedPodChanges: number;
  /** One line per session whose report disagrees with the kernel. */
  wrong: string[];
}

export function rebindingTruth(input: RebindingInput): RebindingTruth {
  const address = (port: number) => formatEndpoint(input.publicIp, port);
  const known = new Set<string>();
  for (const port of [...input.natBefore.values(), ...input.natAfter.values()]) known.add(address(port));
  const truth: RebindingTruth = { rebound: 0, extraBindings: 0, expectedPodChanges: 0, wrong: [] };
  for (const session of input.report.sessions) {
    const port = session.localPort;
    const oldPort = port === null ? undefined : input.natBefore.get(port);
    const newPort = port === null ? undefined : input.natAfter.get(port);
    if (oldPort === undefined || newPort === undefined) {
      truth.wrong.push(`#${session.session}: no NAT conntrack entry for local port ${port}`);
      continue;
    }
    const from = address(oldPort);
    const to = address(newPort);
    if (oldPort !== newPort) truth.rebound++;
    const changes = input.report.events.filter((e) => e.type === 'address-change' && e.session === session.session);
    const path = [from, ...changes.map((e) => e.to ?? '?')];
    const continuous = changes.every((e, i) => e.from === path[i]);
    const between = path.slice(1, -1);
    const real = between.every((a) => input.nodeFlows.has(a) && !known.has(a));
    if (!continuous || path.at(-1) !== to || !real) {
      truth.wrong.push(`#${session.session}: NAT moved ${from} -> ${to}, reported [${changes.map((e) => `${e.from} -> ${e.to}`).join(', ')}]`);
      continue;
    }
    truth.extraBindings += between.length;
    const pods = path.map((a) => input.nodeFlows.get(a) ?? input.podsBefore.get(a));
    for (let i = 1; i < pods.length; i++) if (pods[i] !== pods[i - 1]) truth.expectedPodChanges++;
  }
  return truth;
}
