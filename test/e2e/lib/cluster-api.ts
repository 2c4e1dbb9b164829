// The Kubernetes API side of the bed (issue 9): the list-and-watch stand-in the unit tests use
// (test/fixtures/fake-kube-api.ts), holding the Service, its pods and its EndpointSlice as the
// scenario changes them, so that the client runs with its cluster watch on, as against a cluster.
//
// The client runs inside the bed's client namespace, which cannot reach the host's loopback. The
// file system is shared, though: the stand-in listens on a Unix socket, and a relay of a few
// lines, started inside the client namespace, forwards the namespace's own 127.0.0.1:6443 to it.
import type { ChildProcess } from 'node:child_process';
import { FakeKubeApi, type KubeObject } from '../../fixtures/fake-kube-api.js';
import { endpointSlice, node, pod, service } from '../../fixtures/kube-objects.js';
import type { BedPlan } from './bed-plan.js';
import type { ClusterAccess } from './client-run.js';
import type { Endpoint, ServiceSpec } from './service.js';
import type { TestBed } from './test-bed.js';

/**
 * What the API says of one of the bed's pods: a ready endpoint of the Service; running but no
 * endpoint (pod-4 before a scale-up); deleting but still serving (the endpoint's ready false,
 * serving and terminating true, the pod has a deletionTimestamp); or gone (no endpoint, no pod).
 */
export type PodState = 'endpoint' | 'idle' | 'terminating' | 'gone';

/** Each pod's state: an endpoint when in `endpoints`, else idle; `change` overrides some. */
export function podStates(plan: BedPlan, endpoints: readonly Endpoint[], change: Readonly<Record<string, PodState>> = {}): Map<string, PodState> {
  return new Map(plan.pods.map((p) => [p.name, change[p.name] ?? (endpoints.some((e) => e.ip === p.ip) ? 'endpoint' : 'idle')]));
}

/** The API objects for `states`: the Service, the node, each pod not gone, and one EndpointSlice. Pure. */
export function clusterObjects(plan: BedPlan, spec: ServiceSpec, states: ReadonlyMap<string, PodState>): KubeObject[] {
  const objects: KubeObject[] = [service(spec.name, { type: 'ClusterIP', ports: [{ name: spec.portName, protocol: 'UDP', port: spec.port }] }), node(plan.nodeName)];
  const endpoints = [];
  for (const p of plan.pods) {
    const state = states.get(p.name) ?? 'gone';
    if (state === 'gone') continue;
    objects.push(pod(p.name, { ip: p.ip, node: plan.nodeName, terminating: state === 'terminating' }));
    if (state === 'endpoint') endpoints.push({ ip: p.ip, pod: p.name, node: plan.nodeName });
    if (state === 'terminating') endpoints.push({ ip: p.ip, pod: p.name, node: plan.nodeName, ready: false, serving: true, terminating: true });
  }
  objects.push(endpointSlice(`${spec.name}-bed`, spec.name, endpoints));
  return objects;
}

/** Forwards 127.0.0.1:PORT to the Unix socket PATH (argv: PATH PORT); says "listening" when ready. */
const RELAY = `
const net = require('node:net');
const [path, port] = process.argv.slice(1);
net.createServer((inside) => {
  const api = net.connect(path);
  inside.on('error', () => api.destroy());
  api.on('error', () => inside.destroy());
  inside.pipe(api).pipe(inside);
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));
`;

const RELAY_PORT = 6443;

export class BedCluster {
  private constructor(
    private readonly plan: BedPlan,
    private readonly spec: ServiceSpec,
    private readonly api: FakeKubeApi,
    private readonly relay: ChildProcess,
  ) {}

  /** Starts the stand-in and its relay in `bed`'s client namespace. */
  static async start(bed: TestBed, spec: ServiceSpec): Promise<BedCluster> {
    const api = await FakeKubeApi.start({ namespace: spec.namespace, relayUrl: `http://127.0.0.1:${RELAY_PORT}` });
    const relay = bed.spawnIn(bed.plan.clientNamespace, [process.execPath, '-e', RELAY, api.socketPath, String(RELAY_PORT)]);
    try {
      await listening(relay);
    } catch (error) {
      relay.kill('SIGKILL');
      await api.close();
      throw error;
    }
    return new BedCluster(bed.plan, spec, api, relay);
  }

  get access(): ClusterAccess {
    return { kubeconfig: this.api.kubeconfigPath, namespace: this.spec.namespace, service: this.spec.name };
  }

  /** Makes the API say `states`, as the control plane would: updates what exists, deletes the pods gone. */
  publish(states: ReadonlyMap<string, PodState>): void {
    for (const object of clusterObjects(this.plan, this.spec, states)) this.api.put(object);
    for (const p of this.plan.pods) if ((states.get(p.name) ?? 'gone') === 'gone') this.api.remove('pods', this.spec.namespace, p.name);
  }

  async close(): Promise<void> {
    this.relay.kill('SIGKILL');
    await this.api.close();
  }
}

function listening(relay: ChildProcess, limitMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the API relay did not listen within ${limitMs} ms: ${output.trim()}`)), limitMs);
    const done = (error?: Error) => {
      clearTimeout(timer);
      if (error === undefined) resolve();
      else reject(error);
    };
    relay.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
    relay.stdout?.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      if (output.includes('listening')) done();
    });
    relay.once('exit', (code) => done(new Error(`the API relay exited ${code}: ${output.trim()}`)));
  });
}
