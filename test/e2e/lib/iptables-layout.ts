// kube-proxy's iptables mode for one UDP Service (and its TCP port of the same number, if any), as iptables-restore input. Pure: a Service and
// its endpoints in, rule text out; test-bed.ts applies it. The layout follows what kube-proxy
// writes (pkg/proxy/iptables): KUBE-SERVICES matches the cluster IP and jumps to KUBE-SVC-<hash>,
// which picks an endpoint chain KUBE-SEP-<hash> with `statistic --mode random` (probability
// 1/n, then 1/(n-1), ... the last one unconditional, so every endpoint is equally likely), and
// the endpoint chain DNATs to the pod. ClientIP affinity adds the `recent` module: the Service
// chain first sends a source address seen recently by an endpoint back to that endpoint
// (--rcheck --seconds T --reap), and the endpoint chain records the address (--set).
//
// A load balancer's address (status.loadBalancer.ingress) jumps from KUBE-SERVICES to
// KUBE-EXT-<hash>, which applies spec.externalTrafficPolicy: `Cluster` marks the packet for
// masquerade and goes on to KUBE-SVC (any pod, on any node); `Local` goes to KUBE-SVL-<hash>, the
// same random choice over this node's endpoints only, without SNAT.
//
// For IPv6 kube-proxy writes the same chains with ip6tables (its IPv6 proxier): host matches are
// /128 instead of /32, and DNAT targets are written [address]:port; the `recent` and `statistic`
// modules and MASQUERADE work alike in both families.
import { endpointText, nameHash, servicePortName, servicePorts, type Endpoint, type Family, type Protocol, type ServiceSpec } from './service.js';

/** The mark kube-proxy uses for "masquerade this" (--iptables-masquerade-bit 14). */
const MASQUERADE_MARK = '0x4000';

// kube-proxy hashes the Service port's name with its protocol, so the UDP and TCP ports of one
// Service get chains of their own.
export function serviceChain(service: ServiceSpec, protocol: Protocol = 'udp'): string {
  return `KUBE-SVC-${nameHash(servicePortName(service) + protocol, 16)}`;
}

/** KUBE-EXT-: where traffic to the load balancer's address goes first, by the traffic policy. */
export function externalChain(service: ServiceSpec, protocol: Protocol = 'udp'): string {
  return `KUBE-EXT-${nameHash(servicePortName(service) + protocol, 16)}`;
}

/** KUBE-SVL-: the Service's endpoints on this node only (`externalTrafficPolicy: Local`). */
export function localServiceChain(service: ServiceSpec, protocol: Protocol = 'udp'): string {
  return `KUBE-SVL-${nameHash(servicePortName(service) + protocol, 16)}`;
}

export function endpointChain(service: ServiceSpec, endpoint: Endpoint, protocol: Protocol = 'udp'): string {
  return `KUBE-SEP-${nameHash(servicePortName(service) + protocol + endpointText(endpoint), 16)}`;
}

/** The commands that edit the family's rules: iptables and iptables-restore, or their ip6 twins. */
export function iptablesCommands(family: Family): { iptables: string; restore: string } {
  return family === 6 ? { iptables: 'ip6tables', restore: 'ip6tables-restore' } : { iptables: 'iptables', restore: 'iptables-restore' };
}

/** A single host as an iptables address match: `/32`, or `/128` for IPv6. */
function host(family: Family, ip: string): string {
  return `${ip}/${family === 6 ? 128 : 32}`;
}

/** kube-proxy prints probabilities with ten decimals. */
export function probability(index: number, count: number): string {
  return (1 / (count - index)).toFixed(10);
}

/**
 * The rules that hook kube-proxy's chains into the built-in nat chains, as argument lists for
 * `iptables -t nat`. kube-proxy ensures these once, outside its restore transaction.
 */
export function iptablesHookRules(): string[][] {
  return [
    ['-A', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
    ['-A', 'OUTPUT', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
    ['-A', 'POSTROUTING', '-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING'],
  ];
}

/**
 * iptables-restore input (to be used with --noflush) that makes the nat table route the Service
 * to `endpoints`. Each `:CHAIN` line empties that chain, so the chains are rewritten whole, and
 * endpoint chains of `staleEndpoints` (endpoints that went away since the last sync) are deleted,
 * as kube-proxy's sync does. A Service with a TCP port too gets the same chains for it.
 */
export function iptablesRestoreInput(
  family: Family,
  service: ServiceSpec,
  endpoints: readonly Endpoint[],
  staleEndpoints: readonly Endpoint[] = [],
): string {
  const ports = servicePorts(service).map((port) => portRules(family, port.service, port.protocol, endpoints, staleEndpoints));
  const lines: string[] = ['*nat'];
  for (const chain of ['KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING', ...ports.flatMap((p) => p.chains)]) lines.push(`:${chain} - [0:0]`);
  lines.push(...ports.flatMap((p) => p.services));
  lines.push(
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQUERADE_MARK}`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQUERADE_MARK}/${MASQUERADE_MARK} -j RETURN`,
    // The mark is cleared before MASQUERADE so that a re-routed packet is not masqueraded twice.
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQUERADE_MARK}`,
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
  );
  lines.push(...ports.flatMap((p) => p.rules));
  for (const chain of ports.flatMap((p) => p.stale)) lines.push(`-X ${chain}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * One Service port's part: the chains it declares (stale ones last, emptied so that -X may delete
 * them), its KUBE-SERVICES rules, and the rules of its own chains.
 */
function portRules(
  family: Family,
  service: ServiceSpec,
  protocol: Protocol,
  endpoints: readonly Endpoint[],
  staleEndpoints: readonly Endpoint[],
): { chains: string[]; services: string[]; rules: string[]; stale: string[] } {
  const svcChain = serviceChain(service, protocol);
  const name = servicePortName(service);
  const affinity = service.sessionAffinity === 'ClientIP';
  const live = endpoints.map((e) => endpointChain(service, e, protocol));
  const stale = [...new Set(staleEndpoints.map((e) => endpointChain(service, e, protocol)))].filter((c) => !live.includes(c));
  const external = service.loadBalancerIp !== undefined && endpoints.length > 0;
  const local = external && service.externalTrafficPolicy === 'Local';
  const extChain = externalChain(service, protocol);
  const svlChain = localServiceChain(service, protocol);
  const policyChains = [...(external ? [extChain] : []), ...(local ? [svlChain] : [])];

  const match = `-m ${protocol} -p ${protocol} -d ${host(family, service.clusterIp)} --dport ${service.port}`;
  const services = [`-A KUBE-SERVICES -m comment --comment "${name} cluster IP" ${match} -j ${svcChain}`];
  if (external) {
    services.push(
      `-A KUBE-SERVICES -m comment --comment "${name} loadbalancer IP" -m ${protocol} -p ${protocol} -d ${host(family, service.loadBalancerIp!)} --dport ${service.port} -j ${extChain}`,
    );
  }

  const lines: string[] = [];
  if (service.clusterCidr !== undefined) {
    lines.push(`-A ${svcChain} -m comment --comment "${name} cluster IP" ${match} ! -s ${service.clusterCidr} -j KUBE-MARK-MASQ`);
  }
  lines.push(...endpointSelection(service, svcChain, endpoints, protocol));

  if (external && !local) {
    // Cluster: the chosen pod may be on another node, so the reply must come back through this one.
    lines.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`, `-A ${extChain} -j ${svcChain}`);
  }
  if (local) {
    // Local: pods and the node itself are short-circuited to the whole Service; everything else
    // (the balancer's traffic) goes to this node's endpoints with its source address kept.
    if (service.clusterCidr !== undefined) {
      lines.push(`-A ${extChain} -m comment --comment "pod traffic for ${name} external destinations" -s ${service.clusterCidr} -j ${svcChain}`);
    }
    lines.push(
      `-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A ${extChain} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`,
    );
    const onNode = endpoints.filter((e) => e.local === true);
    // Without a local endpoint kube-proxy drops the rest in the filter table, and its health
    // check takes the node out of the balancer's pool; the bed does the latter only.
    if (onNode.length > 0) {
      lines.push(`-A ${extChain} -j ${svlChain}`, ...endpointSelection(service, svlChain, onNode, protocol));
    }
  }

  for (const endpoint of endpoints) {
    const sep = endpointChain(service, endpoint, protocol);
    // A pod reaching itself through the Service must be masqueraded, or its reply would bypass
    // the node's conntrack entry (hairpin).
    lines.push(`-A ${sep} -m comment --comment ${name} -s ${host(family, endpoint.ip)} -j KUBE-MARK-MASQ`);
    const remember = affinity ? ` -m recent --name ${sep} --set` : '';
    lines.push(`-A ${sep} -m comment --comment ${name}${remember} -m ${protocol} -p ${protocol} -j DNAT --to-destination ${endpointText(endpoint)}`);
  }

  return { chains: [svcChain, ...policyChains, ...live, ...stale], services, rules: lines, stale };
}

/**
 * The rules of `chain` that pick one of `endpoints`: with ClientIP affinity first the `recent`
 * checks, then `statistic --mode random` with probabilities 1/n, 1/(n-1), ..., the last one
 * unconditional, so that every endpoint is equally likely.
 */
function endpointSelection(service: ServiceSpec, chain: string, endpoints: readonly Endpoint[], protocol: Protocol): string[] {
  const name = servicePortName(service);
  const lines: string[] = [];
  if (service.sessionAffinity === 'ClientIP') {
    for (const endpoint of endpoints) {
      const sep = endpointChain(service, endpoint, protocol);
      lines.push(
        `-A ${chain} -m comment --comment "${name} -> ${endpointText(endpoint)}" -m recent --name ${sep} --rcheck --seconds ${service.stickySeconds} --reap -j ${sep}`,
      );
    }
  }
  endpoints.forEach((endpoint, index) => {
    const sep = endpointChain(service, endpoint, protocol);
    const pick = index < endpoints.length - 1 ? ` -m statistic --mode random --probability ${probability(index, endpoints.length)}` : '';
    lines.push(`-A ${chain} -m comment --comment "${name} -> ${endpointText(endpoint)}"${pick} -j ${sep}`);
  });
  return lines;
}

/** Removes every rule and chain of this layout from the nat table (switching layouts, teardown). */
export function iptablesFlushCommands(): string[][] {
  return [
    ['-t', 'nat', '-F'],
    ['-t', 'nat', '-X'],
  ];
}
