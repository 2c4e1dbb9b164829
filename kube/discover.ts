// Finds where to send UDP: the Service's LoadBalancer ingress (IP, else host name) and its UDP
// port. A cloud load balancer takes from seconds to minutes to appear, so we poll with a progress
// line and give up with one clear line after the timeout.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { formatDuration } from '../common/duration.js';
import { KubeError, toKubeError } from './errors.js';
import { contextNamespace, loadKubeConfig } from './kubeconfig.js';
import { serviceRecord, type ServiceRecord } from './records.js';

export interface DiscoverOptions {
  namespace?: string;
  service: string;
  timeoutMs: number;
  onProgress?: (text: string) => void;
  kubeConfig?: KubeConfig;
  /** Time between reads of the Service (default 2s). */
  pollIntervalMs?: number;
  /** Which UDP port when the Service has several (by name); default the first UDP port. */
  portName?: string;
  signal?: AbortSignal;
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
  const loaded = options.kubeConfig ? undefined : loadKubeConfig();
  const kubeConfig = options.kubeConfig ?? loaded!.kubeConfig;
  const namespace = options.namespace ?? (loaded ? loaded.namespace : contextNamespace(kubeConfig));
  const server = kubeConfig.getCurrentCluster()?.server;
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const pollMs = options.pollIntervalMs ?? 2000;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const op = { verb: 'get', resource: 'services', namespace, name: options.service, ...(server ? { server } : {}) };

  for (;;) {
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
    if (host) return { host, port };

    const now = Date.now();
    if (now >= deadline) {
      throw new KubeError(
        'no-ingress',
        `Service ${options.service} in namespace ${namespace} has no LoadBalancer ingress after ${formatDuration(options.timeoutMs)}: see "kubectl describe service ${options.service} -n ${namespace}" (is a load-balancer controller running?)`,
      );
    }
    options.onProgress?.(
      `waiting for a LoadBalancer address for Service ${namespace}/${options.service} (${formatDuration(now - started)} of ${formatDuration(options.timeoutMs)})`,
    );
    try {
      await sleep(Math.max(1, Math.min(pollMs, deadline - now)), undefined, options.signal ? { signal: options.signal } : undefined);
    } catch {
      throw new KubeError('timeout', `stopped waiting for Service ${namespace}/${options.service}`);
    }
  }
}
