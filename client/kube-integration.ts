// The client's optional link to the cluster (kube/, issue 4), loaded only when wanted so that a
// plain run never pays for @kubernetes/client-node, and a broken kube module can only switch the
// watch off, never stop the measurement.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import type { Clock } from '../common/clock.js';
import type { ClusterWatch } from '../common/cluster-events.js';
import { SetupError } from '../common/errors.js';
import { kubeconfigAvailable as findsKubeconfig } from '../common/kubeconfig-discovery.js';

/** True when a kubeconfig (KUBECONFIG or ~/.kube/config) or an in-cluster service account is there. */
export function kubeconfigAvailable(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): boolean {
  return findsKubeconfig({ env, home, exists: existsSync });
}

interface ClusterWatchModule {
  startClusterWatch(options: { namespace?: string; service: string; onWarning?: (text: string) => void; clock?: Clock }): Promise<ClusterWatch>;
}

/** Which discovered address(es) a run uses: the first, the first of one family, or one of each (kube/discover.ts). */
export type DiscoverFamily = 'any' | 4 | 6 | 'both';

interface IngressAddress {
  host: string;
  family: 4 | 6 | 'hostname';
}

interface DiscoverModule {
  discoverServiceAddresses(options: {
    namespace?: string;
    service: string;
    timeoutMs: number;
    family?: DiscoverFamily;
    onProgress?: (text: string) => void;
    signal?: AbortSignal;
  }): Promise<{ port: number; addresses: IngressAddress[] }>;
  addressesFor(addresses: readonly IngressAddress[], family: DiscoverFamily): IngressAddress[];
}

// Specifiers held in variables: the client compiles and runs even when kube/ is absent.
const CLUSTER_WATCH_MODULE = '../kube/cluster-watch.js';
const DISCOVER_MODULE = '../kube/discover.js';

export type WatchStart = { ok: true; watch: ClusterWatch } | { ok: false; reason: string };

/**
 * Starts the cluster watch on the run's clock (so a cluster event and a session break are times
 * on one timeline); any failure comes back as one line of reason.
 */
export async function startWatch(
  options: { namespace?: string; service: string; onWarning: (text: string) => void; clock: Clock },
  load: () => Promise<ClusterWatchModule> = () => import(CLUSTER_WATCH_MODULE) as Promise<ClusterWatchModule>,
): Promise<WatchStart> {
  try {
    const module = await load();
    const watch = await module.startClusterWatch(options);
    return { ok: true, watch };
  } catch (error) {
    return { ok: false, reason: (error as Error)?.message ?? String(error) };
  }
}

/** The Service's LoadBalancer address(es) of the family asked for; SetupError('discovery') when they cannot be found. */
export async function discoverTargets(
  options: { namespace?: string; service: string; timeoutMs: number; family: DiscoverFamily; onProgress: (text: string) => void; signal?: AbortSignal },
  load: () => Promise<DiscoverModule> = () => import(DISCOVER_MODULE) as Promise<DiscoverModule>,
): Promise<{ host: string; port: number }[]> {
  let module: DiscoverModule;
  try {
    module = await load();
  } catch (error) {
    throw new SetupError('discovery', `no target given and the Kubernetes module failed to load (${(error as Error).message}); give --target HOST:PORT`);
  }
  try {
    const found = await module.discoverServiceAddresses(options);
    return module.addressesFor(found.addresses, options.family).map(({ host }) => ({ host, port: found.port }));
  } catch (error) {
    throw new SetupError('discovery', `no target given and discovery failed: ${(error as Error)?.message ?? String(error)}`);
  }
}
