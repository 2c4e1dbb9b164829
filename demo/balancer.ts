// DEMO FIXTURE, not part of the product: a tiny UDP load balancer that behaves like kube-proxy
// in front of a Service, so `affinity-tester demo` can show affinity breaks on one machine.
//
// - The first datagram of a flow (the client's address and port) picks a backend by hashing the
//   flow's 5-tuple with each backend's name and taking the highest (rendezvous hashing, so a
//   removed backend's flows spread over all the others), and the choice is pinned in a flow
//   table, as conntrack pins the NAT decision kube-proxy's rules made for the first packet.
// - Each flow leaves through its own upstream socket (its own source port), as SNAT gives each
//   flow its own port; replies go back to the client from the balancer's address, so the client
//   sees the balancer as its target, as it sees a Service's VIP.
// - Adding a backend leaves existing flows where they are (conntrack keeps them); removing one
//   forgets its flows (kube-proxy clears conntrack entries of removed UDP endpoints), so their next
//   datagram is hashed afresh: a new backend and a new source port, i.e. a pod change and a
//   reflective address change. Removing one can also leave a few flows pinned to it, as a stale
//   conntrack entry does when that cleanup is missed (kubernetes/kubernetes#59368): their
//   datagrams keep going to the gone pod until clearStale() forgets them.
// - restart() forgets every flow while all backends stay, as a kube-proxy restart that flushes
//   conntrack does; the hash takes a new seed, as kube-proxy's random choice would pick afresh, so
//   most flows land on another pod that never left.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface Backend {
  name: string;
  address: string;
  port: number;
}

interface Flow {
  clientAddress: string;
  clientPort: number;
  backend: Backend;
  upstream: Socket;
}

/**
 * FNV-1a, 32 bits, then MurmurHash3's final mix: FNV alone barely changes the high bits when only
 * the last characters differ (as between "...|pod-a" and "...|pod-b"), which rendezvous hashing
 * compares.
 */
export function flowHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Rendezvous (highest random weight) hashing of a flow over the backends. */
export function pickBackend(tuple: string, backends: readonly Backend[]): Backend {
  let best = backends[0]!;
  let bestWeight = -1;
  for (const backend of backends) {
    const weight = flowHash(`${tuple}|${backend.name}`);
    if (weight > bestWeight) {
      best = backend;
      bestWeight = weight;
    }
  }
  return best;
}

export class DemoBalancer {
  private readonly flows = new Map<string, Flow>();
  private backends: Backend[] = [];
  /** Changed by restart(), so every flow is picked afresh. */
  private seed = 0;
  /** Upstream sockets of forgotten flows, kept briefly so replies already in flight still arrive. */
  private readonly retiring = new Map<NodeJS.Timeout, Socket>();

  private constructor(
    private readonly front: Socket,
    readonly address: string,
    readonly port: number,
    private readonly graceMs: number,
  ) {
    front.on('message', (datagram, from) => this.forward(datagram, from));
    front.on('error', () => undefined);
  }

  /** Binds the front socket on `host` (default 127.0.0.1), any free port. */
  static async start(options: { host?: string; backends: Backend[]; graceMs?: number }): Promise<DemoBalancer> {
    const host = options.host ?? '127.0.0.1';
    const front = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, host, () => {
        front.off('error', reject);
        resolve();
      });
    });
    const balancer = new DemoBalancer(front, host, front.address().port, options.graceMs ?? 1000);
    balancer.backends = [...options.backends];
    return balancer;
  }

  private forward(datagram: Buffer, from: RemoteInfo): void {
    const key = `${from.address}|${from.port}`;
    let flow = this.flows.get(key);
    if (flow === undefined) {
      if (this.backends.length === 0) return;
      const tuple = `udp|${from.address}|${from.port}|${this.address}|${this.port}${this.seed === 0 ? '' : `|${this.seed}`}`;
      const backend = pickBackend(tuple, this.backends);
      const upstream = createSocket(this.address.includes(':') ? 'udp6' : 'udp4');
      const created: Flow = { clientAddress: from.address, clientPort: from.port, backend, upstream };
      upstream.on('message', (reply) => this.front.send(reply, created.clientPort, created.clientAddress));
      upstream.on('error', () => undefined);
      this.flows.set(key, created);
      flow = created;
    }
    flow.upstream.send(datagram, flow.backend.port, flow.backend.address);
  }

  /** Adds a backend: only flows not seen before can be hashed to it. */
  addBackend(backend: Backend): void {
    this.backends.push(backend);
  }

  /**
   * Removes a backend and forgets its flows but the first `stale` ones, which stay pinned to it;
   * returns how many flows it forgot.
   */
  removeBackend(name: string, stale = 0): number {
    this.backends = this.backends.filter((b) => b.name !== name);
    let kept = 0;
    return this.forget((flow) => flow.backend.name === name && kept++ >= stale);
  }

  /** Forgets the flows still pinned to removed backends (conntrack -D); returns how many. */
  clearStale(): number {
    return this.forget((flow) => !this.backends.includes(flow.backend));
  }

  /** Forgets every flow, all backends staying, and picks afresh from now on; returns how many. */
  restart(): number {
    this.seed++;
    return this.forget(() => true);
  }

  private forget(which: (flow: Flow) => boolean): number {
    let forgotten = 0;
    for (const [key, flow] of this.flows) {
      if (!which(flow)) continue;
      this.flows.delete(key);
      forgotten++;
      const timer = setTimeout(() => {
        this.retiring.delete(timer);
        flow.upstream.close();
      }, this.graceMs);
      this.retiring.set(timer, flow.upstream);
    }
    return forgotten;
  }

  /** Flows per backend name. */
  flowsPerBackend(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const flow of this.flows.values()) counts.set(flow.backend.name, (counts.get(flow.backend.name) ?? 0) + 1);
    return counts;
  }

  close(): void {
    for (const [timer, upstream] of this.retiring) {
      clearTimeout(timer);
      upstream.close();
    }
    this.retiring.clear();
    for (const flow of this.flows.values()) flow.upstream.close();
    this.flows.clear();
    this.front.close();
  }
}
