// Create-or-replace of manifest objects through the generic object API, which works for any kind
// the server lists in its discovery documents. We chose this over server-side apply to keep the
// requests plain (and the test server small); `kubectl apply` users lose nothing, since these
// objects are ours alone.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { statusOf, toKubeError, type KubeOperation } from './errors.js';
import type { Manifest } from './manifests.js';

const RESOURCE_NAMES: Record<string, string> = {
  Namespace: 'namespaces',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  Deployment: 'deployments.apps',
  Job: 'jobs.batch',
  Role: 'roles.rbac.authorization.k8s.io',
  RoleBinding: 'rolebindings.rbac.authorization.k8s.io',
  ClusterRole: 'clusterroles.rbac.authorization.k8s.io',
  ClusterRoleBinding: 'clusterrolebindings.rbac.authorization.k8s.io',
};

/** The resource as RBAC names it, for messages: "deployments.apps". */
export function resourceName(kind: string | undefined): string {
  return RESOURCE_NAMES[kind ?? ''] ?? `${(kind ?? 'object').toLowerCase()}s`;
}

/** "deployment/affinity-tester", as kubectl prints it. */
export function objectRef(object: KubernetesObject): string {
  return `${(object.kind ?? '').toLowerCase()}/${object.metadata?.name ?? ''}`;
}

export interface ObjectResult {
  ref: string;
  namespace?: string;
  action: 'created' | 'replaced' | 'deleted' | 'absent';
}

function operation(object: KubernetesObject, verb: string, server: string | undefined): KubeOperation {
  return {
    verb,
    resource: resourceName(object.kind),
    ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
    ...(object.metadata?.name ? { name: object.metadata.name } : {}),
    ...(server ? { server } : {}),
  };
}

/**
 * A Service keeps what the cluster allocated (cluster IP, node ports, the health-check port of a
 * Local policy): replacing it without them would be refused or would move the load balancer.
 */
function keepAllocated(next: Manifest, current: Manifest): void {
  if (next.kind !== 'Service') return;
  const spec = next.spec ?? {};
  const now = current.spec ?? {};
  if (now.clusterIP && !spec.clusterIP) spec.clusterIP = now.clusterIP;
  if (now.clusterIPs && !spec.clusterIPs) spec.clusterIPs = now.clusterIPs;
  if (now.healthCheckNodePort && spec.externalTrafficPolicy !== 'Cluster' && !spec.healthCheckNodePort) {
    spec.healthCheckNodePort = now.healthCheckNodePort;
  }
  for (const port of spec.ports ?? []) {
    const match = (now.ports ?? []).find((p: any) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
    if (match?.nodePort && !port.nodePort) port.nodePort = match.nodePort;
  }
}

export class ObjectApplier {
  readonly #api: KubernetesObjectApi;
  readonly #server: string | undefined;

  constructor(kubeConfig: KubeConfig) {
    this.#api = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.#server = kubeConfig.getCurrentCluster()?.server;
  }

  /** The object as the cluster has it, or undefined when there is none. */
  async read(object: Manifest): Promise<Manifest | undefined> {
    try {
      return (await this.#api.read(object)) as Manifest;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toKubeError(error, operation(object, 'get', this.#server));
    }
  }

  async apply(object: Manifest): Promise<ObjectResult> {
    const desired = structuredClone(object);
    const current = await this.read(desired);
    const namespace = desired.metadata.namespace ? { namespace: desired.metadata.namespace } : {};
    if (!current) {
      try {
        await this.#api.create(desired);
      } catch (error) {
        throw toKubeError(error, operation(desired, 'create', this.#server));
      }
      return { ref: objectRef(desired), ...namespace, action: 'created' };
    }
    // Replacing with the version we read makes a concurrent change fail (409) instead of being lost.
    desired.metadata = { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } as Manifest['metadata'];
    keepAllocated(desired, current);
    try {
      await this.#api.replace(desired);
    } catch (error) {
      throw toKubeError(error, operation(desired, 'update', this.#server));
    }
    return { ref: objectRef(desired), ...namespace, action: 'replaced' };
  }

  async delete(object: Manifest): Promise<ObjectResult> {
    const namespace = object.metadata.namespace ? { namespace: object.metadata.namespace } : {};
    try {
      // Background: the Job's and Deployment's pods go too, without waiting here.
      await this.#api.delete(object, undefined, undefined, undefined, undefined, 'Background');
      return { ref: objectRef(object), ...namespace, action: 'deleted' };
    } catch (error) {
      if (statusOf(error) === 404) return { ref: objectRef(object), ...namespace, action: 'absent' };
      throw toKubeError(error, operation(object, 'delete', this.#server));
    }
  }
}
