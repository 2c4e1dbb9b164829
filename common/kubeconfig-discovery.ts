// The one rule for "where is the kubeconfig", the way kubectl looks: --kubeconfig, then KUBECONFIG
// (a list of files, merged, first one wins), then ~/.kube/config, then the pod's service account
// (KUBERNETES_SERVICE_HOST and its token file: the variable alone is also set in pods that mount no
// token). Pure over what it is handed and free of @kubernetes/client-node, so the client can ask
// "is there a cluster?" without loading the library; kube/kubeconfig.ts loads what this finds.
import { delimiter, join } from 'node:path';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeconfigSearch {
  /** An explicit path or list of paths (the --kubeconfig flag); wins over the environment. */
  kubeconfig?: string;
  env: NodeJS.ProcessEnv;
  /** The home directory, for ~/.kube/config. */
  home: string;
  /** Whether a file exists (fs.existsSync in production). */
  exists: (path: string) => boolean;
  /** Prefix of the service-account path, so a test can fake "inside a pod". */
  rootDir?: string;
}

export type KubeconfigSource =
  /** Files to load, in merge order (only those that exist). */
  | { kind: 'files'; files: string[] }
  /** Files were named (flag or KUBECONFIG) but none exists. */
  | { kind: 'missing'; files: string[] }
  /** No file named or found, but running in a pod with a service-account token. */
  | { kind: 'in-cluster'; rootDir: string }
  | { kind: 'none' };

function pathList(value: string): string[] {
  return value.split(delimiter).filter((file) => file !== '');
}

export function findKubeconfig(search: KubeconfigSearch): KubeconfigSource {
  const named = search.kubeconfig ? pathList(search.kubeconfig) : search.env.KUBECONFIG ? pathList(search.env.KUBECONFIG) : [];
  if (named.length > 0) {
    const present = named.filter((file) => search.exists(file));
    return present.length > 0 ? { kind: 'files', files: present } : { kind: 'missing', files: named };
  }
  const home = join(search.home, '.kube', 'config');
  if (search.exists(home)) return { kind: 'files', files: [home] };
  const rootDir = search.rootDir ?? '';
  if (search.env.KUBERNETES_SERVICE_HOST && search.exists(`${rootDir}${SERVICE_ACCOUNT_DIR}/token`)) return { kind: 'in-cluster', rootDir };
  return { kind: 'none' };
}

/** True when there is a kubeconfig to load (the client turns its cluster watch on then). */
export function kubeconfigAvailable(search: KubeconfigSearch): boolean {
  const kind = findKubeconfig(search).kind;
  return kind === 'files' || kind === 'in-cluster';
}
