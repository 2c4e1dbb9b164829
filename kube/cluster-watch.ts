// Watches what the cluster does around one Service while the client runs: the Service's pods (by
// its selector), its EndpointSlices (label kubernetes.io/service-name), the nodes, and the
// namespace's events. Each change becomes a ClusterEvent on the session clock, so a red change
// line can say what happened just before it. Read-only: needs get/list/watch (manifests/base/rbac.yaml).
import { CoreV1Api, DiscoveryV1Api, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { monotonicClock, type Clock } from '../common/clock.js';
import type { ClusterEvent, ClusterWatch, PodIdentity } from '../common/cluster-events.js';
import { endpointChanges, eventChange, nodeChanges, podChanges } from './cluster-diff.js';
import { toKubeError, type KubeError } from './errors.js';
import { connectKube, type KubeTarget } from './kubeconfig.js';
import {
  endpointRecords,
  eventRecord,
  labelSelector,
  nodeRecord,
  podRecord,
  serviceRecord,
  type EndpointRecord,
  type EndpointSliceLike,
  type EventLike,
  type NodeLike,
  type NodeRecord,
  type PodLike,
  type PodRecord,
} from './records.js';
import { startResourceWatch, type ListResult, type ResourceWatch, type WatchEventType } from './resource-watch.js';
import { ClusterTimeline } from './timeline.js';

export interface ClusterWatchOptions extends KubeTarget {
  service: string;
  logger?: Logger;
  /** Stamps each event: pass the run's clock so events and sessions share one timeline. */
  clock?: Clock;
  /** One line for each part of the watch that cannot run (e.g. RBAC forbids nodes); default: logger.warn. */
  onWarning?: (text: string) => void;
  /** Pause before a watch is retried after an error (tests make it short). */
  retryDelayMs?: number;
  /** Pause after a watch stream that ended sooner than this (tests make it short). */
  minWatchMs?: number;
}

type Listener = (event: ClusterEvent) => void;

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function itemsOf<T>(list: { items: T[]; metadata?: { resourceVersion?: string } }): ListResult<T> {
  return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
}

export async function startClusterWatch(options: ClusterWatchOptions): Promise<ClusterWatch> {
  const { kubeConfig, namespace, server } = connectKube(options);
  const now = options.clock ?? monotonicClock;
  const logger = options.logger;
  const warn = options.onWarning ?? ((text: string) => logger?.warn({ namespace, service: options.service }, text));
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const watch = new Watch(kubeConfig);
  const base = { namespace, ...(server ? { server } : {}) };

  // The Service gives the pod selector; a missing Service or an unreachable API fails here, once.
  let selector: Record<string, string>;
  try {
    selector = serviceRecord(await core.readNamespacedService({ name: options.service, namespace })).selector;
  } catch (error) {
    throw toKubeError(error, { ...base, verb: 'get', resource: 'services', name: options.service });
  }

  const timeline = new ClusterTimeline();
  const listeners: Listener[] = [];
  const identities = new Map<string, PodIdentity>();

  const emit = (events: ClusterEvent[]): void => {
    for (const event of events) {
      timeline.add(event);
      logger?.debug({ clusterEvent: event }, event.text);
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          logger?.error({ err: error }, 'cluster event listener failed');
        }
      }
    }
  };

  const remember = (ip: string, pod: string | undefined, node: string | undefined): void => {
    if (!pod) return;
    identities.set(ip, node ? { pod, node } : { pod });
  };

  const reportError = (what: string) => (error: KubeError, retrying: boolean) => {
    if (retrying) logger?.debug({ err: error.message }, `cluster watch of ${what}: retrying`);
    else warn(`cluster watch of ${what} stopped: ${error.message}`);
  };
  const tuning = {
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    ...(options.minWatchMs !== undefined ? { minWatchMs: options.minWatchMs } : {}),
  };

  // Pods: keyed by name; a re-list diffs against what we had so nothing in the gap is missed.
  const pods = new Map<string, PodRecord>();
  const podSelector = labelSelector(selector);
  const applyPod = (record: PodRecord | undefined, name: string): void => {
    const previous = pods.get(name);
    if (record) {
      pods.set(name, record);
      for (const ip of record.ips) remember(ip, record.name, record.node);
    } else pods.delete(name);
    emit(podChanges(previous, record, now()));
  };
  const watches: ResourceWatch[] = [];
  if (podSelector !== '') {
    watches.push(
      startResourceWatch<PodLike>({
        ...tuning,
        watch,
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        query: { labelSelector: podSelector },
        list: async () => itemsOf(await core.listNamespacedPod({ namespace, labelSelector: podSelector })),
        onList: (items, initial) => {
          const fresh = new Map(items.map((item) => [podRecord(item).name, podRecord(item)]));
          if (initial) {
            for (const [name, record] of fresh) {
              pods.set(name, record);
              for (const ip of record.ips) remember(ip, record.name, record.node);
            }
            return;
          }
          for (const name of pods.keys()) if (!fresh.has(name)) applyPod(undefined, name);
          for (const [name, record] of fresh) applyPod(record, name);
        },
        onEvent: (type: WatchEventType, object) => {
          const record = podRecord(object);
          applyPod(type === 'DELETED' ? undefined : record, record.name);
        },
        onError: reportError('pods'),
        operation: { ...base, resource: 'pods' },
      }),
    );
  } else {
    warn(`Service ${options.service} has no selector: its pods are not watched`);
  }

  // EndpointSlices: a Service can have several (one per address family, or more when large), so
  // changes are found on the union of all of them, keyed by address.
  const slices = new Map<string, EndpointRecord[]>();
  let endpoints = new Map<string, EndpointRecord>();
  const unionOfSlices = (): Map<string, EndpointRecord> => {
    const union = new Map<string, EndpointRecord>();
    for (const records of slices.values()) for (const record of records) union.set(record.address, record);
    return union;
  };
  const updateEndpoints = (initial: boolean): void => {
    const next = unionOfSlices();
    for (const record of next.values()) remember(record.address, record.pod, record.node);
    if (!initial) emit(endpointChanges(endpoints, next, now()));
    endpoints = next;
  };
  const sliceSelector = `${SERVICE_NAME_LABEL}=${options.service}`;
  watches.push(
    startResourceWatch<EndpointSliceLike>({
      ...tuning,
      watch,
      path: `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`,
      query: { labelSelector: sliceSelector },
      list: async () => itemsOf(await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: sliceSelector })),
      onList: (items, initial) => {
        slices.clear();
        for (const item of items) slices.set(item.metadata?.name ?? '', endpointRecords(item));
        updateEndpoints(initial);
      },
      onEvent: (type, object) => {
        const name = object.metadata?.name ?? '';
        if (type === 'DELETED') slices.delete(name);
        else slices.set(name, endpointRecords(object));
        updateEndpoints(false);
      },
      onError: reportError('endpointslices'),
      operation: { ...base, resource: 'endpointslices.discovery.k8s.io' },
    }),
  );

  // Nodes: cluster-scoped, so this needs a ClusterRole; without it the rest still works.
  const nodes = new Map<string, NodeRecord>();
  const applyNode = (record: NodeRecord | undefined, name: string): void => {
    const previous = nodes.get(name);
    if (record) nodes.set(name, record);
    else nodes.delete(name);
    emit(nodeChanges(previous, record, now()));
  };
  watches.push(
    startResourceWatch<NodeLike>({
      ...tuning,
      watch,
      path: '/api/v1/nodes',
      list: async () => itemsOf(await core.listNode()),
      onList: (items, initial) => {
        const fresh = new Map(items.map((item) => [nodeRecord(item).name, nodeRecord(item)]));
        if (initial) {
          for (const [name, record] of fresh) nodes.set(name, record);
          return;
        }
        for (const name of nodes.keys()) if (!fresh.has(name)) applyNode(undefined, name);
        for (const [name, record] of fresh) applyNode(record, name);
      },
      onEvent: (type, object) => {
        const record = nodeRecord(object);
        applyNode(type === 'DELETED' ? undefined : record, record.name);
      },
      onError: reportError('nodes'),
      operation: { resource: 'nodes', ...(server ? { server } : {}) },
    }),
  );

  // Events: those listed at start happened before the run and are only remembered, so that a
  // re-list does not report them again; a repeated event is reported each time its count grows.
  const seenEvents = new Set<string>();
  watches.push(
    startResourceWatch<EventLike>({
      ...tuning,
      watch,
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      list: async () => itemsOf(await core.listNamespacedEvent({ namespace })),
      onList: (items, initial) => {
        for (const item of items) {
          const record = eventRecord(item);
          if (seenEvents.has(record.key)) continue;
          seenEvents.add(record.key);
          if (!initial) emit([eventChange(record, now())]);
        }
      },
      onEvent: (type, object) => {
        if (type === 'DELETED') return;
        const record = eventRecord(object);
        if (seenEvents.has(record.key)) return;
        seenEvents.add(record.key);
        emit([eventChange(record, now())]);
      },
      onError: reportError('events'),
      operation: { ...base, resource: 'events' },
    }),
  );

  await Promise.all(watches.map((w) => w.ready));
  logger?.info({ namespace, service: options.service, pods: pods.size, endpoints: endpoints.size, nodes: nodes.size }, 'cluster watch started');

  return {
    eventsBefore: (time, limit, windowMs) => timeline.eventsBefore(time, limit, windowMs),
    events: () => timeline.events(),
    podForIp: (ip) => identities.get(ip),
    onEvent: (listener) => {
      listeners.push(listener);
    },
    close: async () => {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
