// The local demo: three in-process server "pods" behind the demo balancer, the client pointed at
// the balancer, and a script that adds a pod part way through and later removes one, so that a
// newcomer sees what the tool reports when a cluster changes, within half a minute.
import type { ChalkInstance } from 'chalk';
import pino from 'pino';
import { startStunServer, type RunningStunServer } from '../server/udp-server.js';
import { formatEndpoint } from '../common/ip-address.js';
import { clockTime } from '../client/event-lines.js';
import { runClient, type ClientRunOptions, type ClientRunResult } from '../client/run.js';
import { monotonicClock as clock } from '../common/clock.js';
import { DemoBalancer } from './balancer.js';

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

/** When the demo changes the "cluster", as fractions of the run. */
export function demoTimeline(durationMs: number): { addAtMs: number; removeAtMs: number } {
  return { addAtMs: Math.round(durationMs * 0.3), removeAtMs: Math.round(durationMs * 0.55) };
}

export const DEMO_NOTE =
  'demo: these breaks were caused on purpose (the demo added pod-d and removed pod-b); the demo exits 0 whatever the verdict. ' +
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
    const { addAtMs, removeAtMs } = demoTimeline(options.durationMs);
    const addPod = async (): Promise<void> => {
      const server = await startPod(ADDED_POD);
      lb.addBackend({ name: ADDED_POD.name, address: '127.0.0.1', port: server.port });
      write(
        style.cyan(
          `${clockTime(clock())} demo: added ${ADDED_POD.name} (${ADDED_POD.node}); existing flows stay on their pods (conntrack keeps them), only new flows can reach it`,
        ),
      );
    };
    const removePod = (): void => {
      const flows = lb.removeBackend(REMOVED_POD);
      write(
        style.cyan(
          `${clockTime(clock())} demo: removed ${REMOVED_POD}; the balancer forgot its ${flows} flows (as kube-proxy clears conntrack), ` +
            'their next requests are hashed to the other pods from new source ports: expect red lines',
        ),
      );
      // The pod goes away after its endpoint, as a terminating pod does.
      const server = servers.get(REMOVED_POD);
      servers.delete(REMOVED_POD);
      timers.push(setTimeout(() => void server?.close(), 1000));
    };
    return await runClient({
      ...options,
      mode: 'demo',
      target: { host: lb.address, address: lb.address, port: lb.port, family: 4, endpoint: formatEndpoint(lb.address, lb.port) },
      verdictNote: DEMO_NOTE,
      onReady: (running) => {
        timers.push(
          setTimeout(() => {
            addPod().catch((error: unknown) => write(style.red(`demo: could not add ${ADDED_POD.name}: ${(error as Error).message}`)));
          }, addAtMs),
          setTimeout(removePod, removeAtMs),
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
