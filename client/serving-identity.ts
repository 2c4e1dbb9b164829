// One object per distinct server identity, shared by all sessions, so a reply from the pod a
// session already knows costs two string comparisons and nothing else, and so replies per pod
// can be counted on the identity itself.
import type { PodIdentity } from '../common/cluster-events.js';
import type { ServingIdentity } from './events.js';

export class IdentityRegistry {
  private readonly byKey = new Map<string, ServingIdentity>();

  /**
   * `podForIp` names a plain STUN server's pods from the cluster watch (EndpointSlices), when the
   * reply's source address is a pod IP.
   */
  constructor(private readonly podForIp?: (ip: string) => PodIdentity | undefined) {}

  /** The identity of a server that named its pod (an affinity-tester server). */
  named(pod: string, node: string | undefined): ServingIdentity {
    const key = `pod:${pod}/${node ?? ''}`;
    let identity = this.byKey.get(key);
    if (identity === undefined) {
      identity = { key, label: pod, pod, node, named: true, replies: 0 };
      this.byKey.set(key, identity);
    }
    return identity;
  }

  /**
   * The identity of a plain STUN server (coturn, ...): the reply's source endpoint and its
   * SOFTWARE, named after the pod when the cluster watch knows the source IP.
   */
  unnamed(sourceAddress: string, source: string, software: string | undefined): ServingIdentity {
    const key = `source:${source}/${software ?? ''}`;
    let identity = this.byKey.get(key);
    if (identity === undefined) {
      const pod = this.podForIp?.(sourceAddress);
      identity = {
        key,
        label: pod?.pod ?? source,
        pod: pod?.pod,
        node: pod?.node,
        source,
        software,
        named: false,
        replies: 0,
      };
      this.byKey.set(key, identity);
    }
    return identity;
  }

  all(): ServingIdentity[] {
    return [...this.byKey.values()];
  }
}

/** `pod-a (node-1)`, or `127.0.0.1:3478 (Coturn-4.6.1)` for a plain STUN server. */
export function describeIdentity(identity: ServingIdentity): string {
  if (identity.named || identity.pod !== undefined) {
    return identity.node === undefined ? identity.label : `${identity.label} (${identity.node})`;
  }
  return identity.software === undefined ? identity.label : `${identity.label} (${identity.software})`;
}
