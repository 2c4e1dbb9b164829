// kube-proxy's nftables mode for one UDP Service (and its TCP port of the same number, if any), as an `nft -f` transaction. Pure: a Service and
// its endpoints in, script out; test-bed.ts applies it. The layout follows what kube-proxy writes
// (pkg/proxy/nftables): the table `ip kube-proxy`, a `service-ips` verdict map keyed by
// address . protocol . port whose element jumps to the Service chain, which picks an endpoint
// chain with `numgen random mod N vmap`, and the endpoint chain DNATs to the pod. ClientIP
// affinity uses one timed set per endpoint (`flags dynamic,timeout`): the Service chain first
// sends a source address found in an endpoint's set to that endpoint, and the endpoint chain
// adds the address with `update`, which also restarts its timeout.
//
// A load balancer's address is one more `service-ips` element, jumping to the chain
// `external-<hash>`, which applies spec.externalTrafficPolicy: `Cluster` marks the packet for
// masquerade and goes on to the Service chain (any pod); `Local` goes to `local-<hash>`, the
// same random choice over this node's endpoints only, without SNAT.
//
// Each call is one atomic transaction that converges the table, like kube-proxy's sync: `add`
// is idempotent (so an affinity set keeps its elements across syncs), chains are flushed and
// refilled, and the chains and sets of endpoints that went away are deleted.
//
// kube-proxy's IPv6 proxier writes the same layout into the table `ip6 kube-proxy`, with `ip6`
// matches and ipv6_addr keys, and dnat targets written [address]:port.
import { endpointText, nameHash, servicePorts, type Endpoint, type Family, type Protocol, type ServiceSpec } from './service.js';

export const TABLE = 'kube-proxy';
const MASQUERADE_MARK = '0x4000';
/** nft limits chain and set names to 256 bytes (NFT_NAME_MAXLEN). */
const NAME_MAX = 256;

/** The family's name in nftables (the table's family and the address match) and its address type. */
function familyWords(family: Family): { name: string; type: string } {
  return family === 6 ? { name: 'ip6', type: 'ipv6_addr' } : { name: 'ip', type: 'ipv4_addr' };
}

/** `namespace/name/protocol/port`: nftables names may contain `/`, Kubernetes names may not. */
function serviceBase(service: ServiceSpec, protocol: Protocol): string {
  return `${service.namespace}/${service.name}/${protocol}/${service.portName}`;
}

/** nftables names may not contain `:`, so kube-proxy writes an IPv6 address with dots instead. */
function endpointBase(service: ServiceSpec, endpoint: Endpoint, protocol: Protocol): string {
  return `${serviceBase(service, protocol)}__${endpoint.ip.replaceAll(':', '.')}/${endpoint.port}`;
}

/** A hash in front keeps similar names visually apart and unique when truncated. */
function hashed(name: string): string {
  const full = `${nameHash(name, 8)}-${name}`;
  return full.length > NAME_MAX - 10 ? `${full.slice(0, NAME_MAX - 13)}...` : full;
}

export function serviceChainName(service: ServiceSpec, protocol: Protocol = 'udp'): string {
  return `service-${hashed(serviceBase(service, protocol))}`;
}

/** Where traffic to the load balancer's address goes first, by the external traffic policy. */
export function externalChainName(service: ServiceSpec, protocol: Protocol = 'udp'): string {
  return `external-${hashed(serviceBase(service, protocol))}`;
}

/** The Service's endpoints on this node only (`externalTrafficPolicy: Local`). */
export function localChainName(service: ServiceSpec, protocol: Protocol = 'udp'): string {
  return `local-${hashed(serviceBase(service, protocol))}`;
}

export function endpointChainName(service: ServiceSpec, endpoint: Endpoint, protocol: Protocol = 'udp'): string {
  return `endpoint-${hashed(endpointBase(service, endpoint, protocol))}`;
}

export function affinitySetName(service: ServiceSpec, endpoint: Endpoint, protocol: Protocol = 'udp'): string {
  return `affinity-${hashed(endpointBase(service, endpoint, protocol))}`;
}

/** The transaction that makes the table route the Service (each of its ports) to `endpoints`. */
export function nftablesTransaction(
  family: Family,
  service: ServiceSpec,
  endpoints: readonly Endpoint[],
  staleEndpoints: readonly Endpoint[] = [],
): string {
  const words = familyWords(family);
  const ip = words.name;
  const t = `${ip} ${TABLE}`;
  const ports = servicePorts(service).map((port) => portTransaction(family, port.service, port.protocol, endpoints, staleEndpoints));
  const out: string[] = [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority dstnat ; }`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority srcnat ; }`,
    `add chain ${t} services`,
    `add chain ${t} mark-for-masquerade`,
    `add chain ${t} masquerading`,
    `add map ${t} service-ips { type ${words.type} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    ...ports.flatMap((p) => p.declarations),
  ];
  out.push(...refill(t, 'nat-prerouting', ['jump services']));
  out.push(...refill(t, 'nat-output', ['jump services']));
  out.push(...refill(t, 'nat-postrouting', ['jump masquerading']));
  out.push(...refill(t, 'services', [`${ip} daddr . meta l4proto . th dport vmap @service-ips`]));
  out.push(...refill(t, 'mark-for-masquerade', [`meta mark set meta mark or ${MASQUERADE_MARK}`]));
  out.push(
    ...refill(t, 'masquerading', [
      `meta mark and ${MASQUERADE_MARK} == 0 return`,
      // Cleared before masquerading so that a re-routed packet is not masqueraded twice.
      `meta mark set meta mark xor ${MASQUERADE_MARK}`,
      'masquerade fully-random',
    ]),
  );
  out.push(...ports.flatMap((p) => p.rules));
  out.push(`flush map ${t} service-ips`, ...ports.flatMap((p) => p.elements));
  // The Service chains no longer refer to them (refilled above), so they may go.
  out.push(...ports.flatMap((p) => p.deletions));
  out.push('');
  return out.join('\n');
}

/** `flush chain` and `add rule` lines that make `chain` hold exactly `rules`. */
function refill(table: string, chain: string, rules: readonly string[]): string[] {
  return [`flush chain ${table} ${chain}`, ...rules.map((rule) => `add rule ${table} ${chain} ${rule}`)];
}

/**
 * One Service port's part of the transaction: the chains and sets it adds, its chains' rules, its
 * `service-ips` elements, and the deletions of the chains and sets of endpoints that went away.
 */
function portTransaction(
  family: Family,
  service: ServiceSpec,
  protocol: Protocol,
  endpoints: readonly Endpoint[],
  staleEndpoints: readonly Endpoint[],
): { declarations: string[]; rules: string[]; elements: string[]; deletions: string[] } {
  const words = familyWords(family);
  const ip = words.name;
  const t = `${ip} ${TABLE}`;
  const svcChain = serviceChainName(service, protocol);
  const affinity = service.sessionAffinity === 'ClientIP';
  const declarations = [`add chain ${t} ${svcChain}`];
  const external = service.loadBalancerIp !== undefined && endpoints.length > 0;
  const local = external && service.externalTrafficPolicy === 'Local';
  const extChain = externalChainName(service, protocol);
  const localChain = localChainName(service, protocol);
  if (external) declarations.push(`add chain ${t} ${extChain}`);
  if (local) declarations.push(`add chain ${t} ${localChain}`);
  for (const endpoint of endpoints) {
    declarations.push(`add chain ${t} ${endpointChainName(service, endpoint, protocol)}`);
    if (affinity) {
      declarations.push(
        `add set ${t} ${affinitySetName(service, endpoint, protocol)} { type ${words.type} ; flags dynamic,timeout ; timeout ${service.stickySeconds}s ; }`,
      );
    }
  }

  const rules: string[] = [];
  const serviceRules: string[] = [];
  if (service.clusterCidr !== undefined) {
    serviceRules.push(
      `${ip} daddr ${service.clusterIp} ${protocol} dport ${service.port} ${ip} saddr != ${service.clusterCidr} jump mark-for-masquerade`,
    );
  }
  serviceRules.push(...endpointSelection(family, service, endpoints, protocol));
  rules.push(...refill(t, svcChain, serviceRules));
  if (external && !local) {
    // Cluster: the chosen pod may be on another node, so the reply must come back through this one.
    rules.push(...refill(t, extChain, ['jump mark-for-masquerade', `goto ${svcChain}`]));
  }
  if (local) {
    // Local: pods and the node itself are short-circuited to the whole Service; everything else
    // (the balancer's traffic) goes to this node's endpoints with its source address kept.
    const onNode = endpoints.filter((e) => e.local === true);
    rules.push(
      ...refill(t, extChain, [
        ...(service.clusterCidr === undefined ? [] : [`${ip} saddr ${service.clusterCidr} goto ${svcChain}`]),
        'fib saddr type local jump mark-for-masquerade',
        `fib saddr type local goto ${svcChain}`,
        // Without a local endpoint kube-proxy drops the rest (no-endpoint-services), and its health
        // check takes the node out of the balancer's pool; the bed does the latter only.
        ...(onNode.length > 0 ? [`goto ${localChain}`] : []),
      ]),
    );
    rules.push(...refill(t, localChain, endpointSelection(family, service, onNode, protocol)));
  }
  for (const endpoint of endpoints) {
    const endpointRules = [`${ip} saddr ${endpoint.ip} jump mark-for-masquerade`];
    if (affinity) endpointRules.push(`update @${affinitySetName(service, endpoint, protocol)} { ${ip} saddr }`);
    endpointRules.push(`meta l4proto ${protocol} dnat to ${endpointText(endpoint)}`);
    rules.push(...refill(t, endpointChainName(service, endpoint, protocol), endpointRules));
  }

  const elements: string[] = [];
  if (endpoints.length > 0) elements.push(`add element ${t} service-ips { ${service.clusterIp} . ${protocol} . ${service.port} : goto ${svcChain} }`);
  if (external) elements.push(`add element ${t} service-ips { ${service.loadBalancerIp} . ${protocol} . ${service.port} : goto ${extChain} }`);

  const live = new Set(endpoints.map((e) => endpointChainName(service, e, protocol)));
  const removed = new Set<string>();
  const deletions: string[] = [];
  for (const endpoint of staleEndpoints) {
    const chain = endpointChainName(service, endpoint, protocol);
    if (live.has(chain) || removed.has(chain)) continue;
    removed.add(chain);
    deletions.push(`delete chain ${t} ${chain}`);
    if (affinity) deletions.push(`delete set ${t} ${affinitySetName(service, endpoint, protocol)}`);
  }
  return { declarations, rules, elements, deletions };
}

/**
 * The rules that pick one of `endpoints`: with ClientIP affinity first a look-up in each
 * endpoint's set, then `numgen random mod N` over them all.
 */
function endpointSelection(family: Family, service: ServiceSpec, endpoints: readonly Endpoint[], protocol: Protocol): string[] {
  const ip = familyWords(family).name;
  const rules: string[] = [];
  if (service.sessionAffinity === 'ClientIP') {
    for (const endpoint of endpoints) rules.push(`${ip} saddr @${affinitySetName(service, endpoint, protocol)} goto ${endpointChainName(service, endpoint, protocol)}`);
  }
  if (endpoints.length > 0) {
    const choices = endpoints.map((endpoint, index) => `${index} : goto ${endpointChainName(service, endpoint, protocol)}`).join(' , ');
    rules.push(`numgen random mod ${endpoints.length} vmap { ${choices} }`);
  }
  return rules;
}

/** Removes the whole layout (switching layouts, teardown). */
export function nftablesDeleteCommand(family: Family): string[] {
  return ['delete', 'table', familyWords(family).name, TABLE];
}
