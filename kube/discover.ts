// Finds where to send UDP: the Service's LoadBalancer ingress (IP, else host name) and its UDP
// port. A cloud load balancer takes from seconds to minutes to appear, so we poll with a progress
// line and give up with one clear line after the timeout.
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
  signal?: AbortSignal;
  clock?: Clock;
}

export interface ServiceTarget {
  host: string;
  port: number;
}

function udpPort(record: ServiceRecord, namespace: string, portName: string | undefined): number {
  const ports = portName ? record.udpPorts.filter((port) => port.name === portName) : record.udpPorts;
  const first = ports[0];
  if (!first) {
    const which = portName ? `UDP port named ${portName}` : 'UDP port';
    throw new KubeError('invalid', `Service ${record.name} in namespace ${namespace} has no ${which}`);
  }
  return first.port;
}

export async function discoverServiceTarget(options: DiscoverOptions): Promise<ServiceTarget> {
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
      const host = record.ingress[0];
      return host ? { host, port } : undefined;
    },
    timeoutMs: options.timeoutMs,
    intervalMs: options.pollIntervalMs ?? 2000,
    onWaiting: (elapsedMs) =>
      options.onProgress?.(`waiting for a LoadBalancer address for ${where} (${formatDuration(elapsedMs)} of ${formatDuration(options.timeoutMs)})`),
    timedOut: () =>
      new KubeError(
        'no-ingress',
        `Service ${options.service} in namespace ${namespace} has no LoadBalancer ingress after ${formatDuration(options.timeoutMs)}: see "kubectl describe service ${options.service} -n ${namespace}" (is a load-balancer controller running?)`,
      ),
    stopped: () => new KubeError('timeout', `stopped waiting for ${where}`),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
