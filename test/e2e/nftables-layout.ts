import t from 'tap';
import { affinitySetName, endpointChainName, externalChainName, localChainName, nftablesDeleteCommand, nftablesTransaction, serviceChainName } from './lib/nftables-layout.js';
import type { Endpoint, ServiceSpec } from './lib/service.js';

const service: ServiceSpec = {
  namespace: 'default',
  name: 'affinity',
  portName: 'stun',
  clusterIp: '203.0.113.100',
  port: 3478,
  sessionAffinity: 'None',
  stickySeconds: 10800,
};
const endpoints: Endpoint[] = [
  { ip: '198.51.100.11', port: 3478 },
  { ip: '198.51.100.12', port: 3478 },
];

function rulesOf(text: string, chain: string, family = 'ip'): string[] {
  const prefix = `add rule ${family} kube-proxy ${chain} `;
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

t.test('names carry an 8-character hash and the namespace/name/protocol/port path', async (t) => {
  t.match(serviceChainName(service), /^service-[A-Z2-7]{8}-default\/affinity\/udp\/stun$/);
  t.match(endpointChainName(service, endpoints[0]!), /^endpoint-[A-Z2-7]{8}-default\/affinity\/udp\/stun__198\.51\.100\.11\/3478$/);
  t.match(affinitySetName(service, endpoints[0]!), /^affinity-[A-Z2-7]{8}-default\/affinity\/udp\/stun__198\.51\.100\.11\/3478$/);
  t.not(endpointChainName(service, endpoints[0]!).slice(0, 17), endpointChainName(service, endpoints[1]!).slice(0, 17));
});

t.test('nftablesTransaction() of a Service with a TCP port too: a service-ips element, Service and endpoint chains per protocol, stale ones deleted for both', async (t) => {
  const both: ServiceSpec = { ...service, tcpPortName: 'stun-tcp' };
  const tcpPort: ServiceSpec = { ...service, portName: 'stun-tcp' };
  const text = nftablesTransaction(4, both, endpoints.slice(1), endpoints);
  const tcpSvc = serviceChainName(tcpPort, 'tcp');
  const tcpEp = endpointChainName(tcpPort, endpoints[1]!, 'tcp');
  t.match(tcpSvc, /^service-[A-Z2-7]{8}-default\/affinity\/tcp\/stun-tcp$/);
  t.match(text, `add element ip kube-proxy service-ips { 203.0.113.100 . udp . 3478 : goto ${serviceChainName(both)} }`);
  t.match(text, `add element ip kube-proxy service-ips { 203.0.113.100 . tcp . 3478 : goto ${tcpSvc} }`);
  t.same(rulesOf(text, tcpSvc), [`numgen random mod 1 vmap { 0 : goto ${tcpEp} }`]);
  t.same(rulesOf(text, tcpEp), ['ip saddr 198.51.100.12 jump mark-for-masquerade', 'meta l4proto tcp dnat to 198.51.100.12:3478']);
  t.same(
    text.split('\n').filter((l) => l.startsWith('delete ')),
    [`delete chain ip kube-proxy ${endpointChainName(both, endpoints[0]!)}`, `delete chain ip kube-proxy ${endpointChainName(tcpPort, endpoints[0]!, 'tcp')}`],
  );
  t.equal(text.split('\n').filter((l) => l === 'flush chain ip kube-proxy masquerading').length, 1, 'the shared chains are filled once');
});

t.test('nftablesTransaction() routes the cluster IP through the service-ips vmap to numgen random', async (t) => {
  const text = nftablesTransaction(4, service, endpoints);
  const svc = serviceChainName(service);
  const [ep0, ep1] = endpoints.map((e) => endpointChainName(service, e));
  t.match(text, 'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority dstnat ; }');
  t.same(rulesOf(text, 'nat-prerouting'), ['jump services']);
  t.same(rulesOf(text, 'services'), ['ip daddr . meta l4proto . th dport vmap @service-ips']);
  t.match(text, `add element ip kube-proxy service-ips { 203.0.113.100 . udp . 3478 : goto ${svc} }`);
  t.same(rulesOf(text, svc), [`numgen random mod 2 vmap { 0 : goto ${ep0} , 1 : goto ${ep1} }`]);
  t.same(rulesOf(text, ep1!), ['ip saddr 198.51.100.12 jump mark-for-masquerade', 'meta l4proto udp dnat to 198.51.100.12:3478']);
  t.notMatch(text, /affinity-/);
  t.same(rulesOf(text, 'masquerading'), ['meta mark and 0x4000 == 0 return', 'meta mark set meta mark xor 0x4000', 'masquerade fully-random']);
  t.ok(text.indexOf(`flush chain ip kube-proxy ${svc}`) < text.indexOf(`add rule ip kube-proxy ${svc} `), 'chains are flushed before they are refilled');
});

t.test('nftablesTransaction() with ClientIP affinity uses a timed set per endpoint, checked then updated', async (t) => {
  const sticky = { ...service, sessionAffinity: 'ClientIP' as const, stickySeconds: 600 };
  const text = nftablesTransaction(4, sticky, endpoints);
  const svc = serviceChainName(sticky);
  const [set0, set1] = endpoints.map((e) => affinitySetName(sticky, e));
  const [ep0, ep1] = endpoints.map((e) => endpointChainName(sticky, e));
  t.match(text, `add set ip kube-proxy ${set0} { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }`);
  t.same(rulesOf(text, svc).slice(0, 2), [`ip saddr @${set0} goto ${ep0}`, `ip saddr @${set1} goto ${ep1}`]);
  t.match(rulesOf(text, svc)[2], /^numgen random mod 2 vmap/);
  t.same(rulesOf(text, ep0!)[1], `update @${set0} { ip saddr }`);
  t.notMatch(text, /flush set/, 'a sync keeps the addresses the sets remember');
});

t.test('nftablesTransaction() deletes the chain and set of an endpoint that went away, after refilling the Service chain', async (t) => {
  const sticky = { ...service, sessionAffinity: 'ClientIP' as const };
  const text = nftablesTransaction(4, sticky, endpoints.slice(1), endpoints);
  const gone = endpointChainName(sticky, endpoints[0]!);
  const lines = text.split('\n');
  t.ok(lines.includes(`delete chain ip kube-proxy ${gone}`));
  t.ok(lines.includes(`delete set ip kube-proxy ${affinitySetName(sticky, endpoints[0]!)}`));
  t.ok(lines.indexOf(`delete chain ip kube-proxy ${gone}`) > lines.findIndex((l) => l.includes('numgen random mod 1 vmap')));
  t.equal(lines.filter((l) => l.startsWith('delete ')).length, 2);
});

t.test('nftablesTransaction() with no endpoints leaves the cluster IP out of the map', async (t) => {
  const text = nftablesTransaction(4, service, []);
  t.notMatch(text, /add element/);
  t.notMatch(text, /numgen/);
});

t.test('nftablesTransaction() with a cluster CIDR marks traffic from outside it for masquerade', async (t) => {
  const text = nftablesTransaction(4, { ...service, clusterCidr: '198.51.100.0/24' }, endpoints);
  t.same(rulesOf(text, serviceChainName(service))[0], 'ip daddr 203.0.113.100 udp dport 3478 ip saddr != 198.51.100.0/24 jump mark-for-masquerade');
});

const service6: ServiceSpec = { ...service, clusterIp: '2001:db8:113:1::100', sessionAffinity: 'ClientIP', stickySeconds: 600 };
const endpoints6: Endpoint[] = [
  { ip: '2001:db8:100::11', port: 3478 },
  { ip: '2001:db8:100::12', port: 3478 },
];

const balanced: ServiceSpec = { ...service, clusterIp: '203.0.113.200', loadBalancerIp: '203.0.113.100', clusterCidr: '198.51.100.0/24' };

t.test('nftablesTransaction() with a load balancer IP and externalTrafficPolicy Cluster: the external chain masquerades, then any endpoint', async (t) => {
  const text = nftablesTransaction(4, balanced, endpoints);
  const ext = externalChainName(balanced);
  t.match(ext, /^external-[A-Z2-7]{8}-default\/affinity\/udp\/stun$/);
  t.match(text, `add element ip kube-proxy service-ips { 203.0.113.100 . udp . 3478 : goto ${ext} }`);
  t.match(text, `add element ip kube-proxy service-ips { 203.0.113.200 . udp . 3478 : goto ${serviceChainName(balanced)} }`);
  t.same(rulesOf(text, ext), ['jump mark-for-masquerade', `goto ${serviceChainName(balanced)}`]);
  t.notMatch(text, /local-/);
});

t.test('nftablesTransaction() with externalTrafficPolicy Local: the external chain goes to the local chain, this node\'s endpoints only', async (t) => {
  const local = { ...balanced, externalTrafficPolicy: 'Local' as const };
  const text = nftablesTransaction(4, local, [{ ...endpoints[0]!, local: true }, { ...endpoints[1]!, local: false }]);
  const svc = serviceChainName(local);
  const loc = localChainName(local);
  t.match(loc, /^local-[A-Z2-7]{8}-default\/affinity\/udp\/stun$/);
  t.same(rulesOf(text, externalChainName(local)), [
    `ip saddr 198.51.100.0/24 goto ${svc}`,
    'fib saddr type local jump mark-for-masquerade',
    `fib saddr type local goto ${svc}`,
    `goto ${loc}`,
  ]);
  t.same(rulesOf(text, loc), [`numgen random mod 1 vmap { 0 : goto ${endpointChainName(local, endpoints[0]!)} }`]);
});

t.test('nftablesTransaction() with externalTrafficPolicy Local and no local endpoint leaves the external chain without a way to the pods', async (t) => {
  const local = { ...balanced, externalTrafficPolicy: 'Local' as const };
  const text = nftablesTransaction(4, local, endpoints);
  t.same(rulesOf(text, externalChainName(local)).at(-1), `fib saddr type local goto ${serviceChainName(local)}`);
  t.same(rulesOf(text, localChainName(local)), []);
});

t.test('endpoint names write an IPv6 address with dots, since nftables names may not contain colons', async (t) => {
  t.match(endpointChainName(service6, endpoints6[0]!), /^endpoint-[A-Z2-7]{8}-default\/affinity\/udp\/stun__2001\.db8\.100\.\.11\/3478$/);
  t.match(affinitySetName(service6, endpoints6[1]!), /^affinity-[A-Z2-7]{8}-default\/affinity\/udp\/stun__2001\.db8\.100\.\.12\/3478$/);
});

t.test('nftablesTransaction() for IPv6 fills the ip6 kube-proxy table: ipv6_addr keys, ip6 matches, [address]:port dnat', async (t) => {
  const text = nftablesTransaction(6, service6, endpoints6);
  const svc = serviceChainName(service6);
  const [set0, set1] = endpoints6.map((e) => affinitySetName(service6, e));
  const [ep0, ep1] = endpoints6.map((e) => endpointChainName(service6, e));
  t.notMatch(text, / ip kube-proxy /, 'nothing goes to the IPv4 table');
  t.match(text, 'add map ip6 kube-proxy service-ips { type ipv6_addr . inet_proto . inet_service : verdict ;');
  t.match(text, `add set ip6 kube-proxy ${set0} { type ipv6_addr ; flags dynamic,timeout ; timeout 600s ; }`);
  t.same(rulesOf(text, 'services', 'ip6'), ['ip6 daddr . meta l4proto . th dport vmap @service-ips']);
  t.match(text, `add element ip6 kube-proxy service-ips { 2001:db8:113:1::100 . udp . 3478 : goto ${svc} }`);
  t.same(rulesOf(text, svc, 'ip6'), [
    `ip6 saddr @${set0} goto ${ep0}`,
    `ip6 saddr @${set1} goto ${ep1}`,
    `numgen random mod 2 vmap { 0 : goto ${ep0} , 1 : goto ${ep1} }`,
  ]);
  t.same(rulesOf(text, ep1!, 'ip6'), [
    'ip6 saddr 2001:db8:100::12 jump mark-for-masquerade',
    `update @${set1} { ip6 saddr }`,
    'meta l4proto udp dnat to [2001:db8:100::12]:3478',
  ]);
});

t.test('nftablesDeleteCommand() deletes the whole kube-proxy table of the family', async (t) => {
  t.same(nftablesDeleteCommand(4), ['delete', 'table', 'ip', 'kube-proxy']);
  t.same(nftablesDeleteCommand(6), ['delete', 'table', 'ip6', 'kube-proxy']);
});
