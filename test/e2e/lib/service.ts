// A UDP Service and its endpoints as kube-proxy sees them, and the chain names kube-proxy derives
// from them. Both rule layouts (iptables, nftables) start from these records.
import { createHash } from 'node:crypto';
import { formatEndpoint } from '../../../common/ip-address.js';

/**
 * An IP family. kube-proxy runs one proxier per family, each writing its own rule set
 * (iptables or ip6tables; the nftables table `ip kube-proxy` or `ip6 kube-proxy`).
 */
export type Family = 4 | 6;

/** A Service port's protocol, as kube-proxy writes it into chain names and matches. */
export type Protocol = 'udp' | 'tcp';

export interface ServiceSpec {
  namespace: string;
  name: string;
  /** The UDP port's name. */
  portName: string;
  /**
   * The name of a TCP port of the same number, when the Service has one (the manifests'
   * `stun-tcp`): kube-proxy then writes the same rules for TCP, in chains of its own.
   */
  tcpPortName?: string;
  clusterIp: string;
  port: number;
  /** `ClientIP` pins each client address to one endpoint for `stickySeconds`. */
  sessionAffinity: 'None' | 'ClientIP';
  /** service.spec.sessionAffinityConfig.clientIP.timeoutSeconds (Kubernetes default 10800). */
  stickySeconds: number;
  /**
   * kube-proxy's --cluster-cidr. When set, traffic to the cluster IP from outside it is marked
   * for masquerade; when unset (no local-traffic detector), the client's address is kept.
   */
  clusterCidr?: string;
  /**
   * status.loadBalancer.ingress[].ip: the address a cloud load balancer delivers to the nodes
   * unchanged (a pass-through balancer), caught by the node's rules like the cluster IP.
   */
  loadBalancerIp?: string;
  /**
   * spec.externalTrafficPolicy, for traffic to the load balancer's address: `Cluster` sends it
   * to any endpoint and masquerades it (the pod sees the node's address); `Local` sends it only
   * to this node's endpoints and keeps the client's address. Default Cluster.
   */
  externalTrafficPolicy?: 'Cluster' | 'Local';
}

export interface Endpoint {
  ip: string;
  port: number;
  /** The endpoint runs on this node (kube-proxy's IsLocal), for `externalTrafficPolicy: Local`. */
  local?: boolean;
}

/** The Service's ports kube-proxy writes rules for: the UDP one, then the TCP one if any. */
export function servicePorts(service: ServiceSpec): { service: ServiceSpec; protocol: Protocol }[] {
  const ports: { service: ServiceSpec; protocol: Protocol }[] = [{ service, protocol: 'udp' }];
  if (service.tcpPortName !== undefined) ports.push({ service: { ...service, portName: service.tcpPortName }, protocol: 'tcp' });
  return ports;
}

/** `ip:port`, or `[ip]:port` for IPv6: kube-proxy's endpoint string (net.JoinHostPort). */
export function endpointText(endpoint: Endpoint): string {
  return formatEndpoint(endpoint.ip, endpoint.port);
}

/** `namespace/name:port`, kube-proxy's ServicePortName. */
export function servicePortName(service: ServiceSpec): string {
  return `${service.namespace}/${service.name}:${service.portName}`;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 section 6 base32, with padding; Node's Buffer has no base32. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

/** The first `length` base32 characters of SHA-256(text): how kube-proxy makes chain names unique. */
export function nameHash(text: string, length: number): string {
  return base32(createHash('sha256').update(text).digest()).slice(0, length);
}
