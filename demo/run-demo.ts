// The local demo: three in-process server "pods" behind the demo balancer, the client pointed at
// the balancer with the demo's own cluster watch, and a script that shows every kind of break
// within half a minute: a pod added (nothing moves), a balancer restart that forgets every flow
// while all pods stay (violations), a pod removed (expected moves) with a few flows left pointing
// at it (stuck sessions), and those flows cleared (they recover).
import type { ChalkInstance } from 'chalk';
import pino from 'pino';
import { startStunServer, type RunningStunServer } from '../server/udp-server.js';
import { formatEndpoint } from '../common/ip-address.js';
import { clockTime } from '../client/event-lines.js';
import { runClient, type ClientRunOptions, type ClientRunResult } from '../client/run.js';
import { monotonicClock as clock } from '../common/clock.js';
import { DemoBalancer } from './balancer.js';
import { DemoWatch } from './demo-watch.js';

export interface DemoPod {
  name: string;
  node: string;
}

export const INITIAL_PODS: DemoPod[] = [
  { name: 'pod-a', node: 'node-1' },
  { name: 'pod-b', node: 'node-2' },
  { name: 'pod-c', node: 'node-1' },
];
export const ADDED_POD: DemoPod = { name: 'pod-d', node: 'node-2' };
/** The pod the demo removes: one of the first three, so it has flows to rehash. */
export const REMOVED_POD = 'pod-b';
/** Flows the balancer leaves pinned to the removed pod, as stale conntrack entries (at most half of its flows). */
export const STALE_FLOWS = 2;
/** The removed pod's server stops this long after its endpoint is removed, as a terminating pod does. */
export const POD_GONE_AFTER_MS = 1000;

export interface DemoTimeline {
  addAtMs: number;
  restartAtMs: number;
  removeAtMs: number;
  clearAtMs: number;
}

/**
 * When the demo changes its "cluster", as fractions of the run. The stale flows are cleared late
 * enough that, at the default 25 s and --stuck-after 5s, their sessions are reported stuck first.
 */
export function demoTimeline(durationMs: number): DemoTimeline {
  const at = (fraction: number): number => Math.round(durationMs * fraction);
  return { addAtMs: at(0.2), restartAtMs: at(0.35), removeAtMs: at(0.5), clearAtMs: at(0.85) };
}

export const DEMO_NOTE =
  'demo: these breaks were caused on purpose: the balancer restarted and forgot every flow while all pods stayed (violations), ' +
  'pod-b was removed (expected moves) and a few of its flows were left pointing at it until cleared (stuck sessions). ' +
  'The violations, the stuck sessions and their loss are why the verdict is FAIL; the demo exits 0 whatever the verdict. ' +
  'Point "affinity-tester client" at your own Service to test it for real.';

export type DemoRunOptions = Omit<ClientRunOptions, 'target' | 'mode' | 'verdictNote' | 'durationMs' | 'watch'> & {
  durationMs: number;
  style: ChalkInstance;
};

export async function runDemo(options: DemoRunOptions): Promise<ClientRunResult> {
  const { write, style } = options;
  const silent = pino({ level: 'silent' });
  const servers = new Map<string, RunningStunServer>();
  const startPod = async (pod: DemoPod): Promise<RunningStunServer> => {
    const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: pod.name, nodeName: pod.node, logger: silent, summaryIntervalMs: 0 });
    servers.set(pod.name, server);
    return server;
  };
  const timers: NodeJS.Timeout[] = [];
  let balancer: DemoBalancer | undefined;
  try {
    const initial = await Promise.all(INITIAL_PODS.map(startPod));
    balancer = await DemoBalancer.start({
      backends: INITIAL_PODS.map((pod, i) => ({ name: pod.name, address: '127.0.0.1', port: initial[i]!.port })),
    });
    const lb = balancer;
    write(
      style.bold(
        `demo: ${INITIAL_PODS.map((p) => `${p.name} (${p.node})`).join(', ')} serve on 127.0.0.1 behind a demo UDP balancer at ` +
          `${formatEndpoint(lb.address, lb.port)} (a demo fixture that pins flows like kube-proxy and conntrack)`,
      ),
    );
    const watch = new DemoWatch();
    const endpoint = (pod: string): string => formatEndpoint('127.0.0.1', servers.get(pod)!.port);
    const timeline = demoTimeline(options.durationMs);
    const say = (text: string): void => write(style.cyan(`${clockTime(clock())} demo: ${text}`));
    const addPod = async (): Promise<void> => {
      const server = await startPod(ADDED_POD);
      lb.addBackend({ name: ADDED_POD.name, address: '127.0.0.1', port: server.port });
      watch.publish({ time: clock(), kind: 'endpoint-added', subject: endpoint(ADDED_POD.name), text: `endpoint ${endpoint(ADDED_POD.name)} (${ADDED_POD.name}) added`, pod: ADDED_POD.name });
      say(`added ${ADDED_POD.name} (${ADDED_POD.node}); existing flows stay on their pods (conntrack keeps them), only new flows can reach it`);
    };
    const restart = (): void => {
      const flows = lb.restart();
      say(
        `the balancer restarted and forgot all its ${flows} flows while every pod stayed (as a kube-proxy restart flushing conntrack): ` +
          'the sessions that land on another pod are violations',
      );
    };
    const removePod = (): void => {
      const gone = endpoint(REMOVED_POD);
      watch.publish({ time: clock(), kind: 'endpoint-removed', subject: gone, text: `endpoint ${gone} (${REMOVED_POD}) removed`, pod: REMOVED_POD });
      const stale = Math.min(STALE_FLOWS, Math.floor((lb.flowsPerBackend().get(REMOVED_POD) ?? 0) / 2));
      const flows = lb.removeBackend(REMOVED_POD, stale);
      say(
        `removed ${REMOVED_POD}; the balancer forgot ${flows} of its flows (as kube-proxy clears conntrack): expected moves. ` +
          `It left ${stale} pointing at ${REMOVED_POD}, as stale conntrack entries: those sessions will be stuck`,
      );
      const server = servers.get(REMOVED_POD);
      servers.delete(REMOVED_POD);
      timers.push(
        setTimeout(() => {
          watch.publish({ time: clock(), kind: 'pod-deleted', subject: REMOVED_POD, text: `pod ${REMOVED_POD} deleted` });
          void server?.close();
        }, POD_GONE_AFTER_MS),
      );
    };
    const clearStale = (): void => {
      const flows = lb.clearStale();
      say(`cleared the ${flows} stale flows of ${REMOVED_POD} (conntrack -D): their sessions recover on other pods`);
    };
    return await runClient({
      ...options,
      mode: 'demo',
      target: { host: lb.address, address: lb.address, port: lb.port, family: 4, endpoint: formatEndpoint(lb.address, lb.port) },
      watch,
      verdictNote: DEMO_NOTE,
      onReady: (running) => {
        timers.push(
          setTimeout(() => {
            addPod().catch((error: unknown) => write(style.red(`demo: could not add ${ADDED_POD.name}: ${(error as Error).message}`)));
          }, timeline.addAtMs),
          setTimeout(restart, timeline.restartAtMs),
          setTimeout(removePod, timeline.removeAtMs),
          setTimeout(clearStale, timeline.clearAtMs),
        );
        options.onReady?.(running);
      },
    });
  } finally {
    for (const timer of timers) clearTimeout(timer);
    balancer?.close();
    await Promise.all([...servers.values()].map((server) => server.close()));
  }
}
