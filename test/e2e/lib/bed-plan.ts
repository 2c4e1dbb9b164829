// The test bed's shape, as data: namespace, interface and address names for one run. Pure, so
// the names can be checked without root, and so that teardown knows every name it must remove.
//
//   client ns            client-side NAT ns                 node ns                      pod ns
//   192.0.2.10 --veth-- 192.0.2.1 | 203.0.113.2 --veth-- 203.0.113.1 | bridge 198.51.100.1 --veth-- 198.51.100.1N
//                       (MASQUERADE out)                    (kube-proxy rules: VIP -> pods)
//
// Only documentation ranges are used (RFC 5737 for IPv4; RFC 3849's 2001:db8::/32 for IPv6, one
// /64 per IPv4 /24, named after it: 192.0.2.0/24 -> 2001:db8:2::/64), and nothing is routed to
// the host: every interface lives inside a namespace this run created. A bed is single-stack:
// an IPv6 bed has the same shape with IPv6 addresses only.
import type { Family } from './service.js';

export interface PodPlan {
  /** The pod's name, what its server puts in PodName. */
  name: string;
  namespace: string;
  /** The pod's end of its veth, and the node's end on the bridge. */
  podInterface: string;
  bridgePort: string;
  ip: string;
}

export interface BedPlan {
  prefix: string;
  family: Family;
  clientNamespace: string;
  natNamespace: string;
  nodeNamespace: string;
  nodeName: string;
  clientInterface: string;
  natInsideInterface: string;
  natOutsideInterface: string;
  nodeUplinkInterface: string;
  bridge: string;
  clientIp: string;
  natInsideIp: string;
  /** What the pods see as the client's address: the NAT's public side. */
  natPublicIp: string;
  nodeUplinkIp: string;
  bridgeIp: string;
  podCidr: string;
  /** Prefix lengths of the client's LAN, the NAT-node link and the pod network. */
  prefixLengths: { clientLan: number; uplink: number; pods: number };
  /** The Service's virtual IP: on no interface, only in the node's DNAT rules. */
  serviceIp: string;
  servicePort: number;
  pods: PodPlan[];
}

/** Linux refuses interface names longer than 15 bytes (IFNAMSIZ - 1). */
export const MAX_INTERFACE_NAME = 15;

/** A short prefix unique to this process, e.g. `at1z2k-`, short enough to leave room in names. */
export function runPrefix(pid: number): string {
  return `at${pid.toString(36)}-`;
}

type Addresses = Pick<BedPlan, 'clientIp' | 'natInsideIp' | 'natPublicIp' | 'nodeUplinkIp' | 'bridgeIp' | 'podCidr' | 'prefixLengths' | 'serviceIp'> & {
  pod(index: number): string;
};

const ADDRESSES: Record<Family, Addresses> = {
  4: {
    clientIp: '192.0.2.10',
    natInsideIp: '192.0.2.1',
    natPublicIp: '203.0.113.2',
    nodeUplinkIp: '203.0.113.1',
    bridgeIp: '198.51.100.1',
    podCidr: '198.51.100.0/24',
    prefixLengths: { clientLan: 24, uplink: 28, pods: 24 },
    serviceIp: '203.0.113.100',
    pod: (index) => `198.51.100.${10 + index}`,
  },
  6: {
    clientIp: '2001:db8:2::10',
    natInsideIp: '2001:db8:2::1',
    natPublicIp: '2001:db8:113::2',
    nodeUplinkIp: '2001:db8:113::1',
    bridgeIp: '2001:db8:100::1',
    podCidr: '2001:db8:100::/64',
    prefixLengths: { clientLan: 64, uplink: 64, pods: 64 },
    // Outside the NAT-node link's /64, like 203.0.113.100 outside its /28: only in the DNAT rules.
    serviceIp: '2001:db8:113:1::100',
    pod: (index) => `2001:db8:100::${10 + index}`,
  },
};

export function planBed(prefix: string, podCount: number, family: Family = 4, servicePort = 3478): BedPlan {
  if (podCount < 1 || podCount > 50) throw new RangeError(`pod count ${podCount} out of range 1-50`);
  const { pod: podIp, ...addresses } = ADDRESSES[family];
  const pods: PodPlan[] = [];
  for (let i = 1; i <= podCount; i++) {
    pods.push({
      name: `pod-${i}`,
      namespace: `${prefix}pod-${i}`,
      podInterface: `${prefix}p${i}`,
      bridgePort: `${prefix}b${i}`,
      ip: podIp(i),
    });
  }
  const plan: BedPlan = {
    prefix,
    family,
    clientNamespace: `${prefix}client`,
    natNamespace: `${prefix}nat`,
    nodeNamespace: `${prefix}node`,
    nodeName: 'node-a',
    clientInterface: `${prefix}c0`,
    natInsideInterface: `${prefix}n0`,
    natOutsideInterface: `${prefix}n1`,
    nodeUplinkInterface: `${prefix}k0`,
    bridge: `${prefix}br`,
    ...addresses,
    servicePort,
    pods,
  };
  for (const name of interfaceNames(plan)) {
    if (Buffer.byteLength(name) > MAX_INTERFACE_NAME) throw new RangeError(`interface name ${name} is longer than ${MAX_INTERFACE_NAME} bytes`);
  }
  return plan;
}

export function namespaceNames(plan: BedPlan): string[] {
  return [plan.clientNamespace, plan.natNamespace, plan.nodeNamespace, ...plan.pods.map((p) => p.namespace)];
}

export function interfaceNames(plan: BedPlan): string[] {
  return [
    plan.clientInterface,
    plan.natInsideInterface,
    plan.natOutsideInterface,
    plan.nodeUplinkInterface,
    plan.bridge,
    ...plan.pods.flatMap((p) => [p.podInterface, p.bridgePort]),
  ];
}

/** The pod whose address is `ip`, if any. */
export function podByIp(plan: BedPlan, ip: string): PodPlan | undefined {
  return plan.pods.find((p) => p.ip === ip);
}
