// Loads the cluster that common/kubeconfig-discovery.ts finds. Unlike KubeConfig.loadFromDefault()
// we never fall back to http://localhost:8080: no kubeconfig is an error the user should see, not a
// connection refused later.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter } from 'node:path';
import { KubeConfig, type Cluster } from '@kubernetes/client-node';
import { findKubeconfig, type KubeconfigSearch } from '../common/kubeconfig-discovery.js';
import { KubeError } from './errors.js';

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** The current context's namespace ("default" when it names none). */
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
  /** Where it came from: a file path or "in-cluster service account". */
  source: string;
}

/** Where to look; every field defaults to the real process's (environment, home, file system). */
export type KubeConfigSearch = Partial<KubeconfigSearch>;

/**
 * A plain http:// server (kubectl proxy, http://127.0.0.1:8001) has no TLS to verify, but
 * client-node refuses it unless the cluster says insecure-skip-tls-verify ("HTTP protocol is not
 * allowed when skipTLSVerify is not set or false"); kubectl needs no such line, so neither do we.
 */
function allowPlainHttp(cluster: Cluster): Cluster {
  return cluster.server.startsWith('http://') && !cluster.skipTLSVerify ? { ...cluster, skipTLSVerify: true } : cluster;
}

/** Loads the kubeconfig, or throws KubeError('no-kubeconfig' | 'bad-kubeconfig') with one line. */
export function loadKubeConfig(search: KubeConfigSearch = {}): LoadedKubeConfig {
  const env = search.env ?? process.env;
  const found = findKubeconfig({
    ...search,
    env,
    home: search.home ?? env.HOME ?? homedir(),
    exists: search.exists ?? existsSync,
  });
  const kubeConfig = new KubeConfig();
  let source: string;
  switch (found.kind) {
    case 'missing':
      throw new KubeError('no-kubeconfig', `no kubeconfig: ${found.files.join(delimiter)} does not exist`);
    case 'none':
      throw new KubeError(
        'no-kubeconfig',
        'no kubeconfig: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config (or run inside the cluster)',
      );
    case 'in-cluster':
      kubeConfig.loadFromCluster(found.rootDir);
      source = 'in-cluster service account';
      break;
    case 'files':
      try {
        kubeConfig.loadFromFile(found.files[0]!);
        for (const file of found.files.slice(1)) {
          const more = new KubeConfig();
          more.loadFromFile(file);
          kubeConfig.mergeConfig(more, true);
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new KubeError('bad-kubeconfig', `cannot read kubeconfig ${found.files[0]}: ${reason}`);
      }
      kubeConfig.clusters = kubeConfig.clusters.map(allowPlainHttp);
      source = found.files.join(delimiter);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new KubeError('bad-kubeconfig', `kubeconfig ${source} has no current context with a cluster (kubectl config use-context NAME)`);
  }
  return { kubeConfig, namespace: contextNamespace(kubeConfig), server: cluster.server, source };
}

/** The current context's namespace ("default" when it names none). */
function contextNamespace(kubeConfig: KubeConfig): string {
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace?.trim() || 'default';
}

/** Which cluster and namespace a kube function works on. */
export interface KubeTarget {
  /** A KubeConfig already loaded (tests); without it the kubeconfig is found and loaded. */
  kubeConfig?: KubeConfig;
  /** Where to look for the kubeconfig when none is given (default: the real process's). */
  search?: KubeConfigSearch;
  /** Default: the kubeconfig context's namespace, else "default". */
  namespace?: string;
}

export interface KubeConnection {
  kubeConfig: KubeConfig;
  namespace: string;
  /** The API server's URL, for "cannot reach" messages. */
  server?: string;
}

/** The preamble of every kube operation: the kubeconfig (loaded when not given) and the namespace. */
export function connectKube(target: KubeTarget): KubeConnection {
  const kubeConfig = target.kubeConfig ?? loadKubeConfig(target.search).kubeConfig;
  const server = kubeConfig.getCurrentCluster()?.server;
  return { kubeConfig, namespace: target.namespace ?? contextNamespace(kubeConfig), ...(server ? { server } : {}) };
}
