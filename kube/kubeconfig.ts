// Finds the cluster the way kubectl does: --kubeconfig, then KUBECONFIG (a list of files), then
// ~/.kube/config, then the pod's service account when running inside the cluster. Unlike
// KubeConfig.loadFromDefault() we never fall back to http://localhost:8080: no kubeconfig is an
// error the user should see, not a connection refused later.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeError } from './errors.js';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** The current context's namespace ("default" when it names none). */
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
  /** Where it came from: a file path or "in-cluster service account". */
  source: string;
}

export interface KubeConfigSearch {
  /** An explicit kubeconfig path (the --kubeconfig flag); wins over the environment. */
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
  /** Home directory, for ~/.kube/config (a parameter so tests need not touch the real one). */
  home?: string;
  /** Prefix of the service-account path (a parameter so tests can fake "in cluster"). */
  rootDir?: string;
}

function kubeconfigFiles(search: KubeConfigSearch): string[] {
  // Like KUBECONFIG, --kubeconfig may list several files (kubectl merges them, first one wins).
  if (search.kubeconfig) return search.kubeconfig.split(delimiter).filter((file) => file !== '');
  const env = search.env ?? process.env;
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter((file) => file !== '');
  const home = search.home ?? env.HOME ?? homedir();
  const file = join(home, '.kube', 'config');
  return existsSync(file) ? [file] : [];
}

function inCluster(search: KubeConfigSearch): boolean {
  const env = search.env ?? process.env;
  return Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(`${search.rootDir ?? ''}${SERVICE_ACCOUNT}/token`);
}

/** True when loadKubeConfig() would find something to load (the client turns its watch on then). */
export function kubeconfigAvailable(env: NodeJS.ProcessEnv = process.env, search: Omit<KubeConfigSearch, 'env'> = {}): boolean {
  const files = kubeconfigFiles({ ...search, env });
  if (files.some((file) => existsSync(file))) return true;
  return files.length === 0 && inCluster({ ...search, env });
}

/** Loads the kubeconfig, or throws KubeError('no-kubeconfig' | 'bad-kubeconfig') with one line. */
export function loadKubeConfig(search: KubeConfigSearch = {}): LoadedKubeConfig {
  const kubeConfig = new KubeConfig();
  const files = kubeconfigFiles(search);
  let source: string;
  if (files.length > 0) {
    const present = files.filter((file) => existsSync(file));
    if (present.length === 0) {
      throw new KubeError('no-kubeconfig', `no kubeconfig: ${files.join(delimiter)} does not exist`);
    }
    try {
      kubeConfig.loadFromFile(present[0]!);
      for (const file of present.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kubeConfig.mergeConfig(more, true);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new KubeError('bad-kubeconfig', `cannot read kubeconfig ${present[0]}: ${reason}`);
    }
    source = present.join(delimiter);
  } else if (inCluster(search)) {
    kubeConfig.loadFromCluster(search.rootDir ?? '');
    source = 'in-cluster service account';
  } else {
    throw new KubeError(
      'no-kubeconfig',
      'no kubeconfig: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config (or run inside the cluster)',
    );
  }
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new KubeError('bad-kubeconfig', `kubeconfig ${source} has no current context with a cluster (kubectl config use-context NAME)`);
  }
  const namespace = context?.namespace?.trim() || 'default';
  return { kubeConfig, namespace, server: cluster.server, source };
}

/** For callers handed a KubeConfig already (tests, the client): its context's namespace. */
export function contextNamespace(kubeConfig: KubeConfig): string {
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace?.trim() || 'default';
}
