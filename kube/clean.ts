// `affinity-tester clean`: deletes what deploy, scaleup and the client Job created, and with
// `rbac` the client's RBAC too. Objects already gone are reported, not errors.
import { ObjectApplier, type ObjectResult } from './apply.js';
import { connectKube, type KubeTarget } from './kubeconfig.js';
import { CLIENT_JOB, rbacObjects, SCALEUP_DEPLOYMENT, SERVER_DEPLOYMENT, type Manifest } from './manifests.js';

export interface CleanOptions extends KubeTarget {
  service: string;
  /** Also delete the client's ServiceAccount, Role(Binding) and ClusterRole(Binding). */
  rbac?: boolean;
  manifestDir?: string;
}

export async function clean(options: CleanOptions): Promise<{ namespace: string; objects: ObjectResult[] }> {
  const { kubeConfig, namespace } = connectKube(options);
  const applier = new ObjectApplier(kubeConfig);
  const object = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, metadata: { name, namespace } }) as Manifest;
  const targets: Manifest[] = [
    object('batch/v1', 'Job', CLIENT_JOB),
    object('apps/v1', 'Deployment', SCALEUP_DEPLOYMENT),
    object('v1', 'Service', options.service),
    object('apps/v1', 'Deployment', SERVER_DEPLOYMENT),
  ];
  if (options.rbac) targets.push(...rbacObjects(namespace, options.manifestDir));
  const objects: ObjectResult[] = [];
  for (const target of targets) objects.push(await applier.delete(target));
  return { namespace, objects };
}
