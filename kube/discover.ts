// Finds where to send UDP: the Service's LoadBalancer ingress (IP, else host name) and its UDP
// port. A cloud load balancer takes from seconds to minutes to appear, so we poll with a progress
// line and give up with one clear line after the timeout. A dual-stack Service has one ingress
// address per family, and a load balancer may publish them one after the other, so a wanted family
// that is not there yet is waited for like the first address.
import { isIP } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Clock } from '../common/clock.js';
import { formatDuration } from '../common/duration.js';
import { KubeError, toKubeError } from './errors.js';
import { connectKube, type KubeTarget } from './kubeconfig.js';
import { pollUntil } from './poll.js';
import { serviceRecord, type ServiceRecord } from './records.js';

export interface DiscoverOptions extends KubeTarget {
  service: string;
  timeoutMs: number;
  onProgress?: (text: string) => void;
  /** Time between reads of the Service (default 2s). */
  pollIntervalMs?: number;
  /** Which UDP port when the Service has several (by name); default the first UDP port. */
  portName?: string;
  /** Wait for an address of this family (default any: the first address of either, or a host name). */
  family?: FamilyChoice;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface ServiceTarget {
  host: string;
  port: number;
}

/** 4 or 6 for an IP address; a host name's family is only known once it is resolved. */
export type IngressFamily = 4 | 6 | 'hostname';

export interface IngressAddress {
  host: string;
  family: IngressFamily;
}

/** any: the first address; 4 or 6: the first of that family; both: one of each (the client over both). */
export type FamilyChoice = 'any' | 4 | 6 | 'both';

export interface ServiceAddresses {
  port: number;
  /** Every ingress address in the Service's order (IPs before host names). */
  addresses: IngressAddress[];
}

export function ingressAddressOf(host: string): IngressAddress {
  const family = isIP(host);
  return { host, family: family === 4 || family === 6 ? family : 'hostname' };
}

/** The addresses a family choice uses, in order: none when the choice is not met (yet). */
export function addressesFor(addresses: readonly IngressAddress[], family: FamilyChoice): IngressAddress[] {
  const first = (wanted: IngressFamily) => addresses.filter((a) => a.family === wanted).slice(0, 1);
  if (family === 'any') return addresses.slice(0, 1);
  if (family !== 'both') return first(family);
  const both = [...first(4), ...first(6)];
  return both.length === 2 ? both : [];
}

const WAITING_FOR: Record<FamilyChoice, string> = {
  any: 'a LoadBalancer address',
  4: 'an IPv4 LoadBalancer address',
  6: 'an IPv6 LoadBalancer address',
  both: 'an IPv4 and an IPv6 LoadBalancer address',
};
const MISSING: Record<FamilyChoice, string> = { any: 'LoadBalancer ingress', 4: 'IPv4 LoadBalancer ingress', 6: 'IPv6 LoadBalancer ingress', both: 'dual-stack LoadBalancer ingress' };

function udpPort(record: ServiceRecord, namespace: string, portName: string | undefined): number {
  const ports = portName ? record.udpPorts.filter((port) => port.name === portName) : record.udpPorts;
  const first = ports[0];
  if (!first) {
    const which = portName ? `UDP port named ${portName}` : 'UDP port';
    throw new KubeError('invalid', `Service ${record.name} in namespace ${namespace} has no ${which}`);
  }
  return first.port;
}

/** The Service's first ingress address of the wanted family (any by default) and its UDP port. */
export async function discoverServiceTarget(options: DiscoverOptions): Promise<ServiceTarget> {
  const found = await discoverServiceAddresses(options);
  return { host: addressesFor(found.addresses, options.family ?? 'any')[0]!.host, port: found.port };
}

/** Every ingress address with its family, once the wanted family (any by default) is there. */
export async function discoverServiceAddresses(options: DiscoverOptions): Promise<ServiceAddresses> {
  const family = options.family ?? 'any';
  let seen: string[] = [];
  const having = () => (seen.length > 0 ? ` (it has ${seen.join(', ')})` : '');
  const { kubeConfig, namespace, server } = connectKube(options);
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const op = { verb: 'get', resource: 'services', namespace, name: options.service, ...(server ? { server } : {}) };
  const where = `Service ${namespace}/${options.service}`;

  return pollUntil({
    attempt: async () => {
      let record: ServiceRecord;
      try {
        record = serviceRecord(await api.readNamespacedService({ name: options.service, namespace }));
      } catch (error) {
        throw toKubeError(error, op);
      }
      if (record.type !== 'LoadBalancer') {
        throw new KubeError(
          'invalid',
          `Service ${options.service} in namespace ${namespace} is type ${record.type}, not LoadBalancer: it gets no external address; pass --target HOST:PORT instead`,
        );
      }
      const port = udpPort(record, namespace, options.portName);
      seen = record.ingress;
      const addresses = record.ingress.map(ingressAddressOf);
      return addressesFor(addresses, family).length > 0 ? { port, addresses } : undefined;
    },
    timeoutMs: options.timeoutMs,
    intervalMs: options.pollIntervalMs ?? 2000,
    onWaiting: (elapsedMs) =>
      options.onProgress?.(`waiting for ${WAITING_FOR[family]} for ${where}${having()} (${formatDuration(elapsedMs)} of ${formatDuration(options.timeoutMs)})`),
    timedOut: () =>
      new KubeError(
        'no-ingress',
        seen.length === 0
          ? `Service ${options.service} in namespace ${namespace} has no LoadBalancer ingress after ${formatDuration(options.timeoutMs)}: see "kubectl describe service ${options.service} -n ${namespace}" (is a load-balancer controller running?)`
          : `Service ${options.service} in namespace ${namespace} has no ${MISSING[family]} after ${formatDuration(options.timeoutMs)}${having()}: is it dual-stack (ipFamilyPolicy PreferDualStack, manifests/overlays/dual-stack) on a dual-stack cluster?`,
      ),
    stopped: () => new KubeError('timeout', `stopped waiting for ${where}`),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
