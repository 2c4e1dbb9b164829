// `affinity-tester deploy`: puts the server Deployment and its Service (and, when asked, the
// client's read-only RBAC) into a namespace, then waits until every replica is ready, so that a
// test started right after it does not count the rollout itself as a break.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { Clock } from '../common/clock.js';
import { formatDuration } from '../common/duration.js';
import { ObjectApplier, type ObjectResult } from './apply.js';
import { KubeError, statusOf, toKubeError } from './errors.js';
import { connectKube, type KubeConnection, type KubeTarget } from './kubeconfig.js';
import { pollUntil } from './poll.js';
import { labelSelector, podRecord, type PodRecord } from './records.js';
import { rbacObjects, SERVER_DEPLOYMENT, serverDeployment, serverService, type Manifest, type ServerSettings } from './manifests.js';

export type DeployPart = 'deployment' | 'service' | 'rbac';

export interface DeployOptions extends Omit<ServerSettings, 'namespace'>, KubeTarget {
  /** What to apply (default deployment and service). */
  parts?: DeployPart[];
  /** Wait for the Deployment's pods to be ready (default true when the Deployment is applied). */
  wait?: boolean;
  timeoutMs: number;
  pollIntervalMs?: number;
  onProgress?: (text: string) => void;
  clock?: Clock;
  /** The manifests directory (tests point it elsewhere). */
  manifestDir?: string;
}

export interface DeployResult {
  namespace: string;
  objects: ObjectResult[];
  /** The server pods once ready (empty when not waited for). */
  pods: PodRecord[];
}

interface RolloutState {
  desired: number;
  updated: number;
  ready: number;
  total: number;
  observed: boolean;
}

function rolloutState(deployment: Manifest): RolloutState {
  const status = deployment.status ?? {};
  return {
    desired: deployment.spec?.replicas ?? 1,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    total: status.replicas ?? 0,
    // The controller has seen our change only once observedGeneration catches up.
    observed: (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0),
  };
}

/** Done as `kubectl rollout status` judges it: every replica updated and ready, no old ones left. */
export function rolloutComplete(state: RolloutState): boolean {
  return state.observed && state.updated >= state.desired && state.ready >= state.desired && state.total <= state.desired;
}

async function ensureNamespace(applier: ObjectApplier, namespace: string, onProgress?: (text: string) => void): Promise<ObjectResult | undefined> {
  const object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as Manifest;
  try {
    if (await applier.read(object)) return undefined;
  } catch (error) {
    // Many users may not read namespaces (a cluster-scoped resource) but can use theirs.
    if (error instanceof KubeError && error.kind === 'forbidden') return undefined;
    throw error;
  }
  onProgress?.(`creating namespace ${namespace}`);
  return applier.apply(object);
}

export async function deploy(options: DeployOptions): Promise<DeployResult> {
  const connection = connectKube(options);
  const { kubeConfig, namespace } = connection;
  const parts = options.parts ?? ['deployment', 'service'];
  const dir = options.manifestDir;
  const settings: ServerSettings = { ...options, namespace };
  const applier = new ObjectApplier(kubeConfig);
  const objects: ObjectResult[] = [];

  const created = await ensureNamespace(applier, namespace, options.onProgress);
  if (created) objects.push(created);
  const manifests: Manifest[] = [];
  if (parts.includes('rbac')) manifests.push(...rbacObjects(namespace, dir));
  if (parts.includes('deployment')) manifests.push(serverDeployment(settings, dir));
  if (parts.includes('service')) manifests.push(serverService(settings, dir));
  for (const manifest of manifests) {
    const result = await applier.apply(manifest);
    options.onProgress?.(`${result.ref} ${result.action}`);
    objects.push(result);
  }

  const wait = options.wait ?? parts.includes('deployment');
  if (!wait) return { namespace, objects, pods: [] };
  const pods = await waitForRollout(connection, options);
  return { namespace, objects, pods };
}

/** Polls the server Deployment until its rollout is complete; then lists its pods. */
export async function waitForRollout(
  { kubeConfig, namespace, server }: KubeConnection,
  options: { timeoutMs: number; pollIntervalMs?: number; onProgress?: (text: string) => void; clock?: Clock },
): Promise<PodRecord[]> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const where = { namespace, ...(server ? { server } : {}) };
  let state: RolloutState | undefined;
  let last = '';
  return pollUntil({
    attempt: async () => {
      let deployment: Manifest;
      try {
        deployment = (await apps.readNamespacedDeployment({ name: SERVER_DEPLOYMENT, namespace })) as unknown as Manifest;
      } catch (error) {
        throw toKubeError(error, { ...where, verb: 'get', resource: 'deployments.apps', name: SERVER_DEPLOYMENT });
      }
      state = rolloutState(deployment);
      if (!rolloutComplete(state)) return undefined;
      const selector = labelSelector(deployment.spec?.selector?.matchLabels ?? {});
      try {
        const list = await core.listNamespacedPod({ namespace, labelSelector: selector });
        return list.items.map(podRecord).filter((pod) => pod.ready && !pod.terminating);
      } catch (error) {
        if (statusOf(error) === 403) return [];
        throw toKubeError(error, { ...where, verb: 'list', resource: 'pods' });
      }
    },
    timeoutMs: options.timeoutMs,
    intervalMs: options.pollIntervalMs ?? 2000,
    onWaiting: (elapsedMs) => {
      const line = `waiting for deployment ${SERVER_DEPLOYMENT}: ${state!.ready} of ${state!.desired} pods ready, ${state!.updated} updated`;
      if (line !== last) options.onProgress?.(`${line} (${formatDuration(elapsedMs)})`);
      last = line;
    },
    timedOut: () =>
      new KubeError(
        'timeout',
        `deployment ${SERVER_DEPLOYMENT} in namespace ${namespace}: ${state!.ready} of ${state!.desired} pods ready after ${formatDuration(options.timeoutMs)}; see "kubectl describe deployment ${SERVER_DEPLOYMENT} -n ${namespace}"`,
      ),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
