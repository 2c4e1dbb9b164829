// Builds the several-nodes bed of a NodesBedPlan out of real namespaces: a client, a balancer that
// routes the load balancer's address over the nodes by ECMP, and 2 to 4 nodes with kube-proxy's
// rules and one pod each. Reads each node's conntrack and the balancer's route per flow, and
// removes everything afterwards, also from the exit handler after a failure or Ctrl-C.
import {
  groupCommand,
  groupDeleteCommand,
  nexthopCommand,
  parseRouteBatch,
  routeBatchCommand,
  routeBatchInput,
  serviceRouteCommand,
  type Hashing,
} from './balancer.js';
import { inNamespace, must, run } from './command.js';
import { parseConntrack, serviceFlows, type ServiceFlow } from './conntrack.js';
import { nodeByIp, nodesNamespaceNames, type NodePlan, type NodesBedPlan } from './nodes-plan.js';
import type { Endpoint, ServiceSpec } from './service.js';
import { applyLayout, createTracked, launchServer, NamespaceBed, type Layout } from './test-bed.js';

export class NodesBed extends NamespaceBed {
  /** Per node: the layout installed and the endpoints its rules route to. */
  private readonly rules = new Map<string, { layout: Layout; endpoints: Endpoint[] }>();
  private hashing: Hashing | undefined;

  private constructor(readonly plan: NodesBedPlan) {
    super();
  }

  protected namespaces(): string[] {
    return nodesNamespaceNames(this.plan);
  }

  static async create(plan: NodesBedPlan): Promise<NodesBed> {
    return createTracked(new NodesBed(plan), (bed) => bed.build());
  }

  private async build(): Promise<void> {
    const p = this.plan;
    const lb = p.balancerNamespace;
    const lengths = p.prefixLengths;
    for (const ns of nodesNamespaceNames(p)) {
      await must(['ip', 'netns', 'add', ns]);
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const veth = (a: string, nsA: string, b: string, nsB: string) =>
      must(['ip', 'link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
    const up = async (ns: string, dev: string, address?: string, prefixLength?: number) => {
      if (address !== undefined) await must(['ip', '-n', ns, 'addr', 'add', `${address}/${prefixLength}`, 'dev', dev]);
      await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    };

    await veth(p.clientInterface, p.clientNamespace, p.balancerInsideInterface, lb);
    await up(p.clientNamespace, p.clientInterface, p.clientIp, lengths.clientLan);
    await must(['ip', '-n', p.clientNamespace, 'route', 'add', 'default', 'via', p.balancerInsideIp]);
    await up(lb, p.balancerInsideInterface, p.balancerInsideIp, lengths.clientLan);
    await must(['ip', '-n', lb, 'link', 'add', p.vpcBridge, 'type', 'bridge']);
    await up(lb, p.vpcBridge, p.balancerVpcIp, lengths.vpc);
    // An L4 hash (addresses, protocol, ports), so that each UDP flow, not each client address,
    // is balanced on its own, as a cloud balancer does. Policy 3 with these five fields, not
    // policy 1: policy 1 takes a hash the packet already carries when it has one, and a packet
    // from a local socket carries the socket's random one across the veth, so that `ip route
    // get` (which hashes the 5-tuple) named another node than the packets took for about half
    // the flows here. Policy 3 always hashes the fields: the look-up and the packets agree.
    await this.exec(lb, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=3', 'net.ipv4.fib_multipath_hash_fields=0x0037']);

    for (const node of p.nodes) {
      await veth(node.uplinkInterface, node.namespace, node.balancerPort, lb);
      await must(['ip', '-n', lb, 'link', 'set', node.balancerPort, 'master', p.vpcBridge]);
      await up(lb, node.balancerPort);
      await up(node.namespace, node.uplinkInterface, node.ip, lengths.vpc);
      await must(['ip', '-n', node.namespace, 'route', 'add', 'default', 'via', p.balancerVpcIp]);
      await must(['ip', '-n', node.namespace, 'link', 'add', node.bridge, 'type', 'bridge']);
      await up(node.namespace, node.bridge, node.bridgeIp, lengths.pods);
      const pod = node.pod;
      await veth(pod.podInterface, pod.namespace, pod.bridgePort, node.namespace);
      await must(['ip', '-n', node.namespace, 'link', 'set', pod.bridgePort, 'master', node.bridge]);
      await up(node.namespace, pod.bridgePort);
      await up(pod.namespace, pod.podInterface, pod.ip, lengths.pods);
      await must(['ip', '-n', pod.namespace, 'route', 'add', 'default', 'via', node.bridgeIp]);
      await this.exec(node.namespace, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      // Host-gw routing: the other nodes' pods through their node address.
      for (const other of p.nodes) {
        if (other !== node) await must(['ip', '-n', node.namespace, 'route', 'add', other.podCidr, 'via', other.ip]);
      }
      await must(nexthopCommand(p, node));
    }
    await Promise.all(p.nodes.map((node) => launchServer(this, node.pod, node.name, '0.0.0.0', p.servicePort)));
  }

  /** kube-proxy's sync on `node`: installs `layout` when it is new there, else updates the endpoints. */
  async syncNode(node: NodePlan, layout: Layout, service: ServiceSpec, endpoints: readonly Endpoint[]): Promise<void> {
    const installed = this.rules.get(node.name);
    await applyLayout(this, node.namespace, 4, layout, service, endpoints, installed?.layout === layout ? installed.endpoints : undefined);
    this.rules.set(node.name, { layout, endpoints: [...endpoints] });
  }

  /** The balancer now spreads flows over `pool` with `hashing`: the group is changed in place when it can be. */
  async setPool(hashing: Hashing, pool: readonly NodePlan[]): Promise<void> {
    if (this.hashing !== hashing) {
      if (this.hashing !== undefined) await must(groupDeleteCommand(this.plan));
      await must(groupCommand(this.plan, hashing, pool, 'add'));
      await must(serviceRouteCommand(this.plan));
      this.hashing = hashing;
    } else {
      await must(groupCommand(this.plan, hashing, pool, 'replace'));
    }
  }

  /** The node the balancer sends each of the client's flows to, by source port. */
  async routes(sourcePorts: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    if (sourcePorts.length === 0) return out;
    const answers = parseRouteBatch(await must(routeBatchCommand(this.plan), routeBatchInput(this.plan, sourcePorts)));
    if (answers.length !== sourcePorts.length) throw new Error(`${sourcePorts.length} route look-ups gave ${answers.length} answers`);
    answers.forEach((answer, i) => {
      if (!answer.ok) throw new Error(`route look-up for source port ${sourcePorts[i]}: ${answer.reason}`);
      out.set(sourcePorts[i]!, nodeByIp(this.plan, answer.gateway)?.name ?? answer.gateway);
    });
    return out;
  }

  /** Each client flow to the load balancer's address that `node` forwarded, by the client's `ip:port`. */
  async nodeFlows(node: NodePlan): Promise<Map<string, ServiceFlow>> {
    const text = await this.exec(node.namespace, ['conntrack', '-L', '-f', 'ipv4', '-p', 'udp', '-o', 'extended']);
    return new Map(serviceFlows(parseConntrack(text), this.plan.serviceIp, this.plan.servicePort).map((f) => [f.client, f]));
  }

  /** Before a scenario: empty conntrack tables, and rules to be installed afresh on each node's next sync. */
  async reset(): Promise<void> {
    this.rules.clear();
    for (const node of this.plan.nodes) await this.exec(node.namespace, ['conntrack', '-F', '-f', 'ipv4']);
  }

  /** kube-proxy's cleanup when a UDP endpoint goes away, on one node (see TestBed.deleteEndpointFlows). */
  async deleteEndpointFlows(node: NodePlan, podIp: string): Promise<void> {
    await run(inNamespace(node.namespace, ['conntrack', '-D', '-f', 'ipv4', '-p', 'udp', '--orig-dst', this.plan.serviceIp, '--reply-src', podIp]));
  }
}
