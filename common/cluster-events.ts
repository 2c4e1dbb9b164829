// What the client needs from a cluster watch, independent of Kubernetes types: small records on
// the same clock as the session events (epoch milliseconds), so a break can be explained by what
// the cluster did just before it. kube/ implements this; client/ only consumes it.

export type ClusterEventKind =
  | 'endpoint-added'
  | 'endpoint-removed'
  | 'endpoint-ready'
  | 'endpoint-not-ready'
  | 'endpoint-terminating'
  | 'pod-added'
  | 'pod-ready'
  | 'pod-not-ready'
  | 'pod-terminating'
  | 'pod-deleted'
  | 'node-added'
  | 'node-ready'
  | 'node-not-ready'
  | 'node-removed'
  | 'event';

export interface ClusterEvent {
  /** Epoch milliseconds when the watch saw it (or the event's own timestamp, when it has one). */
  time: number;
  kind: ClusterEventKind;
  /** What it is about: a pod, node or endpoint name/address. */
  subject: string;
  /** One human phrase, e.g. "endpoint 10.1.2.3 (pod-b) removed", "node aks-7 became Ready". */
  text: string;
  /**
   * The pod an endpoint event is about (the endpoint's targetRef), when the slice names it: an
   * endpoint's subject is its address, and a break is judged by the pod a session left.
   */
  pod?: string;
}

export interface PodIdentity {
  pod: string;
  node?: string;
}

export interface ClusterWatch {
  /** Cluster events at or before `time`, newest first, at most `limit`, within `windowMs`. */
  eventsBefore(time: number, limit: number, windowMs: number): ClusterEvent[];
  /** Every event seen so far, oldest first (for the report). */
  events(): ClusterEvent[];
  /** The pod behind a pod IP, from EndpointSlices, for STUN servers that do not name themselves. */
  podForIp(ip: string): PodIdentity | undefined;
  /** Called for each new cluster event, so the client can log it as it happens. */
  onEvent(listener: (event: ClusterEvent) => void): void;
  close(): Promise<void>;
}
