// kube-proxy's nftables mode for one UDP Service, as an `nft -f` transaction. Pure: a Service and
// its endpoints in, script out; test-bed.ts applies it. The layout follows what kube-proxy writes
// (pkg/proxy/nftables): the table `ip kube-proxy`, a `service-ips` verdict map keyed by
// address . protocol . port whose element jumps to the Service chain, which picks an endpoint
// chain with `numgen random mod N vmap`, and the endpoint chain DNATs to the pod. ClientIP
// affinity uses one timed set per endpoint (`flags dynamic,timeout`): the Service chain first
// sends a source address found in an endpoint's set to that endpoint, and the endpoint chain
// adds the address with `update`, which also restarts its timeout.
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
  if (affinity) {
    for (const endpoint of endpoints) {
      serviceRules.push(`${ip} saddr @${affinitySetName(service, endpoint)} goto ${endpointChainName(service, endpoint)}`);
    }
  }
  if (endpoints.length > 0) {
    const choices = endpoints.map((endpoint, index) => `${index} : goto ${endpointChainName(service, endpoint)}`).join(' , ');
    serviceRules.push(`numgen random mod ${endpoints.length} vmap { ${choices} }`);
  }
  refill(svcChain, serviceRules);

  for (const endpoint of endpoints) {
    const rules = [`${ip} saddr ${endpoint.ip} jump mark-for-masquerade`];
    if (affinity) rules.push(`update @${affinitySetName(service, endpoint)} { ${ip} saddr }`);
    rules.push(`meta l4proto ${PROTOCOL} dnat to ${endpointText(endpoint)}`);
    refill(endpointChainName(service, endpoint), rules);
  }

  out.push(`flush map ${t} service-ips`);
  if (endpoints.length > 0) out.push(`add element ${t} service-ips { ${service.clusterIp} . ${PROTOCOL} . ${service.port} : goto ${svcChain} }`);

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

/** Removes the whole layout (switching layouts, teardown). */
export function nftablesDeleteCommand(family: Family): string[] {
  return ['delete', 'table', familyWords(family).name, TABLE];
}
