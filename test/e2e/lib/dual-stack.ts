// The dual-stack scenario: one bed with both families, like a node of a dual-stack cluster. The
// IPv4 bed is built as usual, then the IPv6 plan's addresses, routes, NAT66 and ip6tables rules
// are added to the same namespaces and interfaces (the IPv6 plan has the same names), and the
// servers listen on :: for both. One client runs with two --target flags, one VIP per family.
// kube-proxy keeps separate conntrack entries per family, so deleting the IPv4 entries on the
// node re-balances the IPv4 sessions alone (sessionAffinity None: each new flow picks a pod
// again), and the IPv6 sessions must not move. Both are checked against the node's conntrack
// tables. The deletion is `conntrack -D -f ipv4`, not `-F -f ipv4`: with conntrack-tools 1.4.7 on
// Linux 6.18 the flush ignored the family and emptied the IPv6 table too (this bed saw all 8
// IPv6 sessions that conntrack moved reported as pod changes), while -D lists the family's
// entries and deletes each.
import { setTimeout as sleep } from 'node:timers/promises';
import { formatEndpoint } from '../../../common/ip-address.js';
import { namespaceNames, planBed, podByIp, type BedPlan } from './bed-plan.js';
import { ClientRun, type ClientResult, type ClientSettings } from './client-run.js';
import { parseConntrack, serviceFlows } from './conntrack.js';
import { iptablesCommands, iptablesHookRules, iptablesRestoreInput } from './iptables-layout.js';
import { changedSessions, check, finalPodsMatchConntrack, same, type Check } from './observation.js';
import { endpointOf, serviceFor } from './scenarios.js';
import { TestBed } from './test-bed.js';

export const DUAL_STACK_TITLE = 'dual stack: deleting the IPv4 conntrack entries moves only the IPv4 sessions';

const PODS = 3;
/** Sessions alternate between the targets: odd sessions IPv4, even IPv6. */
const SETTINGS: ClientSettings = { sessions: 24, intervalMs: 100, timeoutMs: 500, rampMs: 400, durationMs: 2800 };

export interface DualStackOutcome {
  title: string;
  expected: string;
  reported: string;
  checks: Check[];
  client: ClientResult;
}

/** The IPv6 half of the bed: the same interfaces, the IPv6 plan's addresses and routes. */
async function addIpv6(bed: TestBed, v6: BedPlan): Promise<void> {
  const p = bed.plan;
  // nodad: usable at once instead of "tentative" (see TestBed.build).
  const address = (ns: string, dev: string, ip: string, length: number) => bed.exec(ns, ['ip', 'addr', 'add', `${ip}/${length}`, 'dev', dev, 'nodad']);
  const route = (ns: string, via: string) => bed.exec(ns, ['ip', '-6', 'route', 'add', 'default', 'via', via]);
  const lengths = v6.prefixLengths;
  await address(p.clientNamespace, p.clientInterface, v6.clientIp, lengths.clientLan);
  await route(p.clientNamespace, v6.natInsideIp);
  await address(p.natNamespace, p.natInsideInterface, v6.natInsideIp, lengths.clientLan);
  await address(p.natNamespace, p.natOutsideInterface, v6.natPublicIp, lengths.uplink);
  await route(p.natNamespace, v6.nodeUplinkIp);
  await address(p.nodeNamespace, p.nodeUplinkInterface, v6.nodeUplinkIp, lengths.uplink);
  await address(p.nodeNamespace, p.bridge, v6.bridgeIp, lengths.pods);
  for (const [i, pod] of p.pods.entries()) {
    await address(pod.namespace, pod.podInterface, v6.pods[i]!.ip, lengths.pods);
    await route(pod.namespace, v6.bridgeIp);
  }
  for (const ns of [p.natNamespace, p.nodeNamespace]) await bed.exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  const { iptables: ip6tables, restore } = iptablesCommands(6);
  await bed.exec(p.natNamespace, [ip6tables, '-t', 'nat', '-A', 'POSTROUTING', '-o', p.natOutsideInterface, '-j', 'MASQUERADE']);
  await bed.exec(p.nodeNamespace, [restore, '--noflush'], iptablesRestoreInput(6, serviceFor(v6), v6.pods.map((pod) => endpointOf(v6, pod))));
  for (const rule of iptablesHookRules()) await bed.exec(p.nodeNamespace, [ip6tables, '-t', 'nat', ...rule]);
}

/** The node's flows of one family: the pod of each, by the client address the pod sees. */
async function podsBySeen(bed: TestBed, plan: BedPlan): Promise<Map<string, string>> {
  const family = plan.family === 6 ? 'ipv6' : 'ipv4';
  const flows = parseConntrack(await bed.exec(bed.plan.nodeNamespace, ['conntrack', '-L', '-f', family, '-p', 'udp', '-o', 'extended']));
  return new Map(serviceFlows(flows, plan.serviceIp, plan.servicePort).map((flow) => [flow.seen, podByIp(plan, flow.backend)?.name ?? flow.backend]));
}

/** Sessions (by number) whose conntrack pod differs between two snapshots. */
export function movedInConntrack(before: Map<string, string>, after: Map<string, string>, sessions: ClientResult['report']['sessions']): number[] {
  return sessions.filter((s) => s.mappedAddress !== null && before.has(s.mappedAddress) && before.get(s.mappedAddress) !== after.get(s.mappedAddress)).map((s) => s.session);
}

export async function runDualStack(prefix: string): Promise<DualStackOutcome> {
  const v4 = planBed(prefix, PODS, 4);
  const v6 = planBed(prefix, PODS, 6);
  if (namespaceNames(v4).join() !== namespaceNames(v6).join()) throw new Error('the IPv4 and IPv6 plans name different namespaces');
  const bed = await TestBed.create(v4);
  try {
    await addIpv6(bed, v6);
    await bed.useLayout('iptables', serviceFor(v4), v4.pods.map((pod) => endpointOf(v4, pod)));
    await Promise.all(v4.pods.map((pod) => bed.startServer(pod, '::')));
    const run = new ClientRun(bed, SETTINGS, { acts: true, targets: [formatEndpoint(v4.serviceIp, v4.servicePort), formatEndpoint(v6.serviceIp, v6.servicePort)] });
    await run.waitEstablished();
    await sleep(3 * SETTINGS.intervalMs);
    const before = { 4: await podsBySeen(bed, v4), 6: await podsBySeen(bed, v6) };
    await bed.exec(v4.nodeNamespace, ['conntrack', '-D', '-f', 'ipv4', '-p', 'udp']);
    const client = await run.end();
    const after = { 4: await podsBySeen(bed, v4), 6: await podsBySeen(bed, v6) };
    const { report } = client;
    const targets = (report as unknown as { targets?: { family: number; totals: { podChanges: number } }[] }).targets ?? [];
    const ipv4 = report.sessions.filter((s) => s.session % 2 === 1);
    const ipv6 = report.sessions.filter((s) => s.session % 2 === 0);
    const changed = changedSessions(report, 'pod-change');
    const kernelMoved = movedInConntrack(before[4], after[4], ipv4);
    const v4Changes = ipv4.reduce((n, s) => n + s.podChanges, 0);
    const v6Changes = ipv6.reduce((n, s) => n + s.podChanges, 0);
    return {
      title: DUAL_STACK_TITLE,
      expected: `IPv4: pod changes = sessions conntrack moved (${kernelMoved.length}); IPv6: 0`,
      reported: `IPv4 pod changes ${v4Changes}, IPv6 pod changes ${v6Changes}, lost ${report.totals.lost}/${report.totals.sent}`,
      client,
      checks: [
        same('every session established', report.sessions.filter((s) => s.pod !== null).length, SETTINGS.sessions),
        same('odd sessions went over IPv4, even over IPv6', report.sessions.map((s) => s.mappedAddress?.startsWith('[') === (s.session % 2 === 0)), report.sessions.map(() => true)),
        check('the deletion moved some IPv4 sessions (3 pods, no affinity)', kernelMoved.length > 0, `conntrack moved ${kernelMoved.length}`),
        same('the IPv4 sessions that changed pod are those conntrack moved', changed.filter((n) => n % 2 === 1), kernelMoved),
        same('no IPv6 session changed pod', changed.filter((n) => n % 2 === 0), []),
        same("the IPv6 flows are untouched in conntrack", movedInConntrack(before[6], after[6], ipv6), []),
        same('no address change', report.totals.addressChanges, 0),
        same('the report shows each family apart', targets.map((t) => [t.family, t.totals.podChanges]), [
          [4, v4Changes],
          [6, 0],
        ]),
        finalPodsMatchConntrack(report, new Map([...after[4], ...after[6]])),
      ],
    };
  } finally {
    await bed.destroy();
  }
}
