// kube-proxy's nftables mode for one UDP Service, as an `nft -f` transaction. Pure: a Service and
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
import { endpointText, nameHash, type Endpoint, type Family, type ServiceSpec } from './service.js';

export const TABLE = 'kube-proxy';
const PROTOCOL = 'udp';
const MASQUERADE_MARK = '0x4000';
/** nft limits chain and set names to 256 bytes (NFT_NAME_MAXLEN). */
const NAME_MAX = 256;

/** The family's name in nftables (the table's family and the address match) and its address type. */
function familyWords(family: Family): { name: string; type: string } {
  return family === 6 ? { name: 'ip6', type: 'ipv6_addr' } : { name: 'ip', type: 'ipv4_addr' };
}

/** `namespace/name/protocol/port`: nftables names may contain `/`, Kubernetes names may not. */
function serviceBase(service: ServiceSpec): string {
  return `${service.namespace}/${service.name}/${PROTOCOL}/${service.portName}`;
}

/** nftables names may not contain `:`, so kube-proxy writes an IPv6 address with dots instead. */
function endpointBase(service: ServiceSpec, endpoint: Endpoint): string {
  return `${serviceBase(service)}__${endpoint.ip.replaceAll(':', '.')}/${endpoint.port}`;
}

/** A hash in front keeps similar names visually apart and unique when truncated. */
function hashed(name: string): string {
  const full = `${nameHash(name, 8)}-${name}`;
  return full.length > NAME_MAX - 10 ? `${full.slice(0, NAME_MAX - 13)}...` : full;
}

export function serviceChainName(service: ServiceSpec): string {
  return `service-${hashed(serviceBase(service))}`;
}

/** Where traffic to the load balancer's address goes first, by the external traffic policy. */
export function externalChainName(service: ServiceSpec): string {
  return `external-${hashed(serviceBase(service))}`;
}

/** The Service's endpoints on this node only (`externalTrafficPolicy: Local`). */
export function localChainName(service: ServiceSpec): string {
  return `local-${hashed(serviceBase(service))}`;
}

export function endpointChainName(service: ServiceSpec, endpoint: Endpoint): string {
  return `endpoint-${hashed(endpointBase(service, endpoint))}`;
}

export function affinitySetName(service: ServiceSpec, endpoint: Endpoint): string {
  return `affinity-${hashed(endpointBase(service, endpoint))}`;
}

/** The transaction that makes the table route the Service to `endpoints`. */
export function nftablesTransaction(
  family: Family,
  service: ServiceSpec,
  endpoints: readonly Endpoint[],
  staleEndpoints: readonly Endpoint[] = [],
): string {
  const words = familyWords(family);
  const ip = words.name;
  const t = `${ip} ${TABLE}`;
  const svcChain = serviceChainName(service);
  const affinity = service.sessionAffinity === 'ClientIP';
  const out: string[] = [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority dstnat ; }`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority srcnat ; }`,
    `add chain ${t} services`,
    `add chain ${t} mark-for-masquerade`,
    `add chain ${t} masquerading`,
    `add map ${t} service-ips { type ${words.type} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add chain ${t} ${svcChain}`,
  ];
  const external = service.loadBalancerIp !== undefined && endpoints.length > 0;
  const local = external && service.externalTrafficPolicy === 'Local';
  const extChain = externalChainName(service);
  const localChain = localChainName(service);
  if (external) out.push(`add chain ${t} ${extChain}`);
  if (local) out.push(`add chain ${t} ${localChain}`);
  for (const endpoint of endpoints) {
    out.push(`add chain ${t} ${endpointChainName(service, endpoint)}`);
    if (affinity) {
      out.push(
        `add set ${t} ${affinitySetName(service, endpoint)} { type ${words.type} ; flags dynamic,timeout ; timeout ${service.stickySeconds}s ; }`,
      );
    }
  }

  const refill = (chain: string, rules: string[]): void => {
    out.push(`flush chain ${t} ${chain}`);
    for (const rule of rules) out.push(`add rule ${t} ${chain} ${rule}`);
  };
  refill('nat-prerouting', ['jump services']);
  refill('nat-output', ['jump services']);
  refill('nat-postrouting', ['jump masquerading']);
  refill('services', [`${ip} daddr . meta l4proto . th dport vmap @service-ips`]);
  refill('mark-for-masquerade', [`meta mark set meta mark or ${MASQUERADE_MARK}`]);
  refill('masquerading', [
    `meta mark and ${MASQUERADE_MARK} == 0 return`,
    // Cleared before masquerading so that a re-routed packet is not masqueraded twice.
    `meta mark set meta mark xor ${MASQUERADE_MARK}`,
    'masquerade fully-random',
  ]);

  const serviceRules: string[] = [];
  if (service.clusterCidr !== undefined) {
    serviceRules.push(
      `${ip} daddr ${service.clusterIp} ${PROTOCOL} dport ${service.port} ${ip} saddr != ${service.clusterCidr} jump mark-for-masquerade`,
    );
  }
  serviceRules.push(...endpointSelection(family, service, endpoints));
  refill(svcChain, serviceRules);
  if (external && !local) {
    // Cluster: the chosen pod may be on another node, so the reply must come back through this one.
    refill(extChain, ['jump mark-for-masquerade', `goto ${svcChain}`]);
  }
  if (local) {
    // Local: pods and the node itself are short-circuited to the whole Service; everything else
    // (the balancer's traffic) goes to this node's endpoints with its source address kept.
    const onNode = endpoints.filter((e) => e.local === true);
    refill(extChain, [
      ...(service.clusterCidr === undefined ? [] : [`${ip} saddr ${service.clusterCidr} goto ${svcChain}`]),
      'fib saddr type local jump mark-for-masquerade',
      `fib saddr type local goto ${svcChain}`,
      // Without a local endpoint kube-proxy drops the rest (no-endpoint-services), and its health
      // check takes the node out of the balancer's pool; the bed does the latter only.
      ...(onNode.length > 0 ? [`goto ${localChain}`] : []),
    ]);
    refill(localChain, endpointSelection(family, service, onNode));
  }

  for (const endpoint of endpoints) {
    const rules = [`${ip} saddr ${endpoint.ip} jump mark-for-masquerade`];
    if (affinity) rules.push(`update @${affinitySetName(service, endpoint)} { ${ip} saddr }`);
    rules.push(`meta l4proto ${PROTOCOL} dnat to ${endpointText(endpoint)}`);
    refill(endpointChainName(service, endpoint), rules);
  }

  out.push(`flush map ${t} service-ips`);
  if (endpoints.length > 0) out.push(`add element ${t} service-ips { ${service.clusterIp} . ${PROTOCOL} . ${service.port} : goto ${svcChain} }`);
  if (external) out.push(`add element ${t} service-ips { ${service.loadBalancerIp} . ${PROTOCOL} . ${service.port} : goto ${extChain} }`);

  const live = new Set(endpoints.map((e) => endpointChainName(service, e)));
  const removed = new Set<string>();
  for (const endpoint of staleEndpoints) {
    const chain = endpointChainName(service, endpoint);
    if (live.has(chain) || removed.has(chain)) continue;
    removed.add(chain);
    // The Service chain no longer refers to it (refilled above), so it may go.
    out.push(`delete chain ${t} ${chain}`);
    if (affinity) out.push(`delete set ${t} ${affinitySetName(service, endpoint)}`);
  }
  out.push('');
  return out.join('\n');
}

/**
 * The rules that pick one of `endpoints`: with ClientIP affinity first a look-up in each
 * endpoint's set, then `numgen random mod N` over them all.
 */
function endpointSelection(family: Family, service: ServiceSpec, endpoints: readonly Endpoint[]): string[] {
  const ip = familyWords(family).name;
  const rules: string[] = [];
  if (service.sessionAffinity === 'ClientIP') {
    for (const endpoint of endpoints) rules.push(`${ip} saddr @${affinitySetName(service, endpoint)} goto ${endpointChainName(service, endpoint)}`);
  }
  if (endpoints.length > 0) {
    const choices = endpoints.map((endpoint, index) => `${index} : goto ${endpointChainName(service, endpoint)}`).join(' , ');
    rules.push(`numgen random mod ${endpoints.length} vmap { ${choices} }`);
  }
  return rules;
}

/** Removes the whole layout (switching layouts, teardown). */
export function nftablesDeleteCommand(family: Family): string[] {
  return ['delete', 'table', familyWords(family).name, TABLE];
}
