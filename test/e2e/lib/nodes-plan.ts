// The shape of the several-nodes bed, as data: a load balancer in front of 2 to 4 nodes, each
// running kube-proxy's rules and one pod. Pure, so the names can be checked without root, and so
// that teardown knows every name it must remove. IPv4 only (RFC 5737 documentation ranges);
// nothing is routed to the host.
//
//   client ns          balancer ns                    node-k ns (k = 1..4)           pod-k ns
//   192.0.2.10 --veth-- 192.0.2.1                    203.0.113.1k --veth-+
//                       bridge "vpc" 203.0.113.1/26 --------------------+  bridge 198.51.100.(16k+1)/28 --veth-- 198.51.100.(16k+10)
//                       route 203.0.113.100 -> ECMP over the nodes in the pool (nexthop group)
//
// The nodes share the balancer's bridge as one L2 segment, like a cloud VPC: a node reaches the
// other nodes' pods through their node address (host-gw routing), and a pod answers a masqueraded
// request to the node that sent it.
import { MAX_INTERFACE_NAME, type PodPlan } from './bed-plan.js';

export interface NodePlan {
  /** The node's name, what its pod's server reports as NodeName. */
  name: string;
  namespace: string;
  /** The node's end of its link to the balancer's bridge, and the bridge's port. */
  uplinkInterface: string;
  balancerPort: string;
  ip: string;
  /** The node's pod bridge and the node's address on it (the pods' gateway). */
  bridge: string;
  bridgeIp: string;
  podCidr: string;
  pod: PodPlan;
  /** The balancer's next-hop id for this node (`ip nexthop ... id`). */
  nexthopId: number;
}

export interface NodesBedPlan {
  prefix: string;
  clientNamespace: string;
  balancerNamespace: string;
  clientInterface: string;
  balancerInsideInterface: string;
  /** The balancer's bridge, the nodes' shared segment. */
  vpcBridge: string;
  clientIp: string;
  balancerInsideIp: string;
  balancerVpcIp: string;
  /** The load balancer's address: on no interface, routed by the balancer to a node. */
  serviceIp: string;
  /** The Service's cluster IP, only in the nodes' rules. */
  clusterIp: string;
  servicePort: number;
  /** All pods' addresses, kube-proxy's --cluster-cidr. */
  clusterCidr: string;
  prefixLengths: { clientLan: number; vpc: number; pods: number };
  nodes: NodePlan[];
  /** The balancer's id for its nexthop group. */
  groupId: number;
}

export function planNodesBed(prefix: string, nodeCount: number, servicePort = 3478): NodesBedPlan {
  if (nodeCount < 2 || nodeCount > 4) throw new RangeError(`node count ${nodeCount} out of range 2-4`);
  const nodes: NodePlan[] = [];
  for (let k = 1; k <= nodeCount; k++) {
    nodes.push({
      name: `node-${k}`,
      namespace: `${prefix}node-${k}`,
      uplinkInterface: `${prefix}k${k}`,
      balancerPort: `${prefix}v${k}`,
      ip: `203.0.113.${10 + k}`,
      bridge: `${prefix}r${k}`,
      bridgeIp: `198.51.100.${16 * k + 1}`,
      podCidr: `198.51.100.${16 * k}/28`,
      nexthopId: k,
      pod: {
        name: `pod-${k}`,
        namespace: `${prefix}pod-${k}`,
        podInterface: `${prefix}p${k}`,
        bridgePort: `${prefix}b${k}`,
        ip: `198.51.100.${16 * k + 10}`,
      },
    });
  }
  const plan: NodesBedPlan = {
    prefix,
    clientNamespace: `${prefix}client`,
    balancerNamespace: `${prefix}lb`,
    clientInterface: `${prefix}c0`,
    balancerInsideInterface: `${prefix}l0`,
    vpcBridge: `${prefix}vpc`,
    clientIp: '192.0.2.10',
    balancerInsideIp: '192.0.2.1',
    balancerVpcIp: '203.0.113.1',
    // Outside the nodes' /26 (203.0.113.0-63), like a cloud balancer's frontend address.
    serviceIp: '203.0.113.100',
    clusterIp: '203.0.113.200',
    servicePort,
    clusterCidr: '198.51.100.0/24',
    prefixLengths: { clientLan: 24, vpc: 26, pods: 28 },
    nodes,
    groupId: 100,
  };
  for (const name of nodesInterfaceNames(plan)) {
    if (Buffer.byteLength(name) > MAX_INTERFACE_NAME) throw new RangeError(`interface name ${name} is longer than ${MAX_INTERFACE_NAME} bytes`);
  }
  return plan;
}

export function nodesNamespaceNames(plan: NodesBedPlan): string[] {
  return [plan.clientNamespace, plan.balancerNamespace, ...plan.nodes.flatMap((n) => [n.namespace, n.pod.namespace])];
}

export function nodesInterfaceNames(plan: NodesBedPlan): string[] {
  return [
    plan.clientInterface,
    plan.balancerInsideInterface,
    plan.vpcBridge,
    ...plan.nodes.flatMap((n) => [n.uplinkInterface, n.balancerPort, n.bridge, n.pod.podInterface, n.pod.bridgePort]),
  ];
}

/** The node whose address is `ip`, and the node whose pod has address `ip`. */
export function nodeByIp(plan: NodesBedPlan, ip: string): NodePlan | undefined {
  return plan.nodes.find((n) => n.ip === ip);
}

export function nodeOfPodIp(plan: NodesBedPlan, ip: string): NodePlan | undefined {
  return plan.nodes.find((n) => n.pod.ip === ip);
}
