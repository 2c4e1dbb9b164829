// `affinity-tester scaleup` / `scaledown`: sets the replicas (and CPU request) of the pause-pod
// Deployment from manifests/base/node-scaleup.yaml. Pods that fit nowhere stay Pending, which is what
// makes the cluster autoscaler add nodes; scaling to 0 lets it remove them again.
import { ObjectApplier, type ObjectResult } from './apply.js';
import { connectKube, type KubeTarget } from './kubeconfig.js';
import { scaleupDeployment } from './manifests.js';

export interface ScaleOptions extends KubeTarget {
  replicas: number;
  /** CPU request of each pause pod ("1", "500m"); default: the manifest's. */
  cpu?: string;
  manifestDir?: string;
}

export interface ScaleResult extends ObjectResult {
  replicas: number;
  cpu: string;
}

export async function scaleNodeWorkload(options: ScaleOptions): Promise<ScaleResult> {
  const { kubeConfig, namespace } = connectKube(options);
  const applier = new ObjectApplier(kubeConfig);
  const desired = scaleupDeployment({ namespace, replicas: options.replicas, ...(options.cpu ? { cpu: options.cpu } : {}) }, options.manifestDir);
  const cpu = String(desired.spec.template.spec.containers[0].resources.requests.cpu);
  if (options.replicas === 0 && !options.cpu) {
    // Scaling down keeps the CPU the workload was scaled up with, and creates nothing.
    const current = await applier.read(desired);
    if (!current) return { ref: `deployment/${desired.metadata.name}`, namespace, action: 'absent', replicas: 0, cpu };
    desired.spec.template.spec.containers[0].resources = current.spec?.template?.spec?.containers?.[0]?.resources ?? desired.spec.template.spec.containers[0].resources;
  }
  const result = await applier.apply(desired);
  return { ...result, replicas: options.replicas, cpu: String(desired.spec.template.spec.containers[0].resources.requests.cpu) };
}
