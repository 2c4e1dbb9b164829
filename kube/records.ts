// Kubernetes objects cut down to the few fields the rest of the code uses (STYLE.md item 8).
// The input types are structural and minimal so that both the client library's model classes
// (lists) and the raw JSON of watch events fit; timestamps are only tested for presence because
// they arrive as Date in one and as string in the other.

interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  deletionTimestamp?: unknown;
  labels?: Record<string, string>;
}

export interface ServiceLike {
  metadata?: Meta;
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    sessionAffinity?: string;
    externalTrafficPolicy?: string;
    ports?: Array<{ name?: string; protocol?: string; port?: number }>;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}

export interface ServiceRecord {
  name: string;
  type: string;
  selector: Record<string, string>;
  udpPorts: Array<{ name?: string; port: number }>;
  /** LoadBalancer ingress addresses, IPs before host names. */
  ingress: string[];
}

export function serviceRecord(service: ServiceLike): ServiceRecord {
  const ingress = service.status?.loadBalancer?.ingress ?? [];
  return {
    name: service.metadata?.name ?? '',
    type: service.spec?.type ?? 'ClusterIP',
    selector: { ...(service.spec?.selector ?? {}) },
    udpPorts: (service.spec?.ports ?? [])
      .filter((port) => port.protocol === 'UDP' && typeof port.port === 'number')
      .map((port) => (port.name ? { name: port.name, port: port.port! } : { port: port.port! })),
    ingress: [
      ...ingress.flatMap((entry) => (entry.ip ? [entry.ip] : [])),
      ...ingress.flatMap((entry) => (!entry.ip && entry.hostname ? [entry.hostname] : [])),
    ],
  };
}

/** "app=x,tier=y": the label selector string the list and watch calls take. */
export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

interface Condition {
  type?: string;
  status?: string;
}

export interface PodLike {
  metadata?: Meta;
  spec?: { nodeName?: string };
  status?: { podIP?: string; podIPs?: Array<{ ip?: string }>; phase?: string; conditions?: Condition[] };
}

export interface PodRecord {
  name: string;
  node?: string;
  ips: string[];
  ready: boolean;
  terminating: boolean;
}

function conditionTrue(conditions: Condition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((condition) => condition.type === type && condition.status === 'True');
}

export function podRecord(pod: PodLike): PodRecord {
  const ips = new Set<string>();
  if (pod.status?.podIP) ips.add(pod.status.podIP);
  for (const entry of pod.status?.podIPs ?? []) if (entry.ip) ips.add(entry.ip);
  const record: PodRecord = {
    name: pod.metadata?.name ?? '',
    ips: [...ips],
    ready: conditionTrue(pod.status?.conditions, 'Ready'),
    terminating: Boolean(pod.metadata?.deletionTimestamp),
  };
  if (pod.spec?.nodeName) record.node = pod.spec.nodeName;
  return record;
}

export interface EndpointSliceLike {
  metadata?: Meta;
  endpoints?: Array<{
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
    targetRef?: { kind?: string; name?: string };
  }>;
}

export interface EndpointRecord {
  address: string;
  pod?: string;
  node?: string;
  ready: boolean;
  terminating: boolean;
}

/** One record per endpoint address (a dual-stack cluster uses one slice per family). */
export function endpointRecords(slice: EndpointSliceLike): EndpointRecord[] {
  const records: EndpointRecord[] = [];
  for (const endpoint of slice.endpoints ?? []) {
    for (const address of endpoint.addresses ?? []) {
      // EndpointSlice API: a nil ready condition means ready (the field was added later).
      const record: EndpointRecord = {
        address,
        ready: endpoint.conditions?.ready !== false,
        terminating: endpoint.conditions?.terminating === true,
      };
      if (endpoint.targetRef?.kind === 'Pod' && endpoint.targetRef.name) record.pod = endpoint.targetRef.name;
      if (endpoint.nodeName) record.node = endpoint.nodeName;
      records.push(record);
    }
  }
  return records;
}

export interface NodeLike {
  metadata?: Meta;
  spec?: { unschedulable?: boolean };
  status?: { conditions?: Condition[] };
}

export interface NodeRecord {
  name: string;
  ready: boolean;
}

export function nodeRecord(node: NodeLike): NodeRecord {
  return { name: node.metadata?.name ?? '', ready: conditionTrue(node.status?.conditions, 'Ready') };
}

export interface EventLike {
  metadata?: Meta;
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  series?: { count?: number };
  involvedObject?: { kind?: string; name?: string };
}

export interface EventRecord {
  /** uid plus count: a repeated event is the same object with a higher count. */
  key: string;
  type: string;
  reason: string;
  object: string;
  message: string;
}

export function eventRecord(event: EventLike): EventRecord {
  const count = event.series?.count ?? event.count ?? 1;
  const kind = event.involvedObject?.kind ?? '';
  const name = event.involvedObject?.name ?? '';
  return {
    key: `${event.metadata?.uid ?? event.metadata?.name ?? ''}#${count}`,
    type: event.type ?? 'Normal',
    reason: event.reason ?? '',
    object: kind ? `${kind.toLowerCase()}/${name}` : name,
    message: (event.message ?? '').replace(/\s+/g, ' ').trim(),
  };
}
