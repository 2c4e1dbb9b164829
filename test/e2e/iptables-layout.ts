import t from 'tap';
import { endpointChain, externalChain, iptablesCommands, localServiceChain, iptablesHookRules, iptablesRestoreInput, probability, serviceChain } from './lib/iptables-layout.js';
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
  { ip: '198.51.100.13', port: 3478 },
];

function rulesOf(text: string, chain: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`-A ${chain} `));
}

t.test('probability() gives 1/n, 1/(n-1), ... with ten decimals, so each endpoint gets an equal share', async (t) => {
  t.same([0, 1].map((i) => probability(i, 3)), ['0.3333333333', '0.5000000000']);
  // P(first) = 1/3; P(second) = 2/3 * 1/2 = 1/3; the rest falls to the last.
});

t.test('chain names are KUBE-SVC-/KUBE-SEP- with 16 base32 characters, distinct per endpoint', async (t) => {
  t.match(serviceChain(service), /^KUBE-SVC-[A-Z2-7]{16}$/);
  const names = endpoints.map((e) => endpointChain(service, e));
  for (const name of names) t.match(name, /^KUBE-SEP-[A-Z2-7]{16}$/);
  t.equal(new Set(names).size, 3);
});

t.test('iptablesRestoreInput() of a Service with a TCP port too: the same chains for TCP, named with its port and protocol, stale ones deleted for both', async (t) => {
  const both: ServiceSpec = { ...service, tcpPortName: 'stun-tcp' };
  const tcpPort: ServiceSpec = { ...service, portName: 'stun-tcp' };
  const text = iptablesRestoreInput(4, both, endpoints.slice(1), endpoints);
  const udpSvc = serviceChain(both);
  const tcpSvc = serviceChain(tcpPort, 'tcp');
  t.not(tcpSvc, udpSvc);
  t.not(serviceChain(tcpPort, 'tcp'), serviceChain(tcpPort, 'udp'), 'the protocol is part of the hash');
  t.same(rulesOf(text, 'KUBE-SERVICES'), [
    `-A KUBE-SERVICES -m comment --comment "default/affinity:stun cluster IP" -m udp -p udp -d 203.0.113.100/32 --dport 3478 -j ${udpSvc}`,
    `-A KUBE-SERVICES -m comment --comment "default/affinity:stun-tcp cluster IP" -m tcp -p tcp -d 203.0.113.100/32 --dport 3478 -j ${tcpSvc}`,
  ]);
  const tcpSep = endpointChain(tcpPort, endpoints[2]!, 'tcp');
  t.same(rulesOf(text, tcpSep), [
    `-A ${tcpSep} -m comment --comment default/affinity:stun-tcp -s 198.51.100.13/32 -j KUBE-MARK-MASQ`,
    `-A ${tcpSep} -m comment --comment default/affinity:stun-tcp -m tcp -p tcp -j DNAT --to-destination 198.51.100.13:3478`,
  ]);
  t.equal(rulesOf(text, tcpSvc).length, 2);
  t.same(
    text.split('\n').filter((l) => l.startsWith('-X ')),
    [`-X ${endpointChain(both, endpoints[0]!)}`, `-X ${endpointChain(tcpPort, endpoints[0]!, 'tcp')}`],
  );
  t.equal(text.split('\n').filter((l) => l.startsWith('-A KUBE-POSTROUTING')).length, 3, 'the shared chains are filled once');
});

t.test('iptablesRestoreInput() without affinity: KUBE-SERVICES -> KUBE-SVC (statistic random) -> KUBE-SEP (DNAT)', async (t) => {
  const text = iptablesRestoreInput(4, service, endpoints);
  const svc = serviceChain(service);
  const seps = endpoints.map((e) => endpointChain(service, e));
  t.ok(text.startsWith('*nat\n'));
  t.ok(text.endsWith('COMMIT\n'));
  t.same(rulesOf(text, 'KUBE-SERVICES'), [
    `-A KUBE-SERVICES -m comment --comment "default/affinity:stun cluster IP" -m udp -p udp -d 203.0.113.100/32 --dport 3478 -j ${svc}`,
  ]);
  t.same(rulesOf(text, svc), [
    `-A ${svc} -m comment --comment "default/affinity:stun -> 198.51.100.11:3478" -m statistic --mode random --probability 0.3333333333 -j ${seps[0]}`,
    `-A ${svc} -m comment --comment "default/affinity:stun -> 198.51.100.12:3478" -m statistic --mode random --probability 0.5000000000 -j ${seps[1]}`,
    `-A ${svc} -m comment --comment "default/affinity:stun -> 198.51.100.13:3478" -j ${seps[2]}`,
  ]);
  t.same(rulesOf(text, seps[1]!), [
    `-A ${seps[1]} -m comment --comment default/affinity:stun -s 198.51.100.12/32 -j KUBE-MARK-MASQ`,
    `-A ${seps[1]} -m comment --comment default/affinity:stun -m udp -p udp -j DNAT --to-destination 198.51.100.12:3478`,
  ]);
  t.notMatch(text, /recent/);
  t.notMatch(text, /! -s/, 'no --cluster-cidr: external clients are not masqueraded');
  t.same(rulesOf(text, 'KUBE-MARK-MASQ'), ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000']);
  t.match(rulesOf(text, 'KUBE-POSTROUTING').at(-1), /MASQUERADE --random-fully$/);
});

t.test('iptablesRestoreInput() with ClientIP affinity checks recent lists first and sets them on DNAT', async (t) => {
  const sticky = { ...service, sessionAffinity: 'ClientIP' as const };
  const text = iptablesRestoreInput(4, sticky, endpoints);
  const svc = serviceChain(sticky);
  const seps = endpoints.map((e) => endpointChain(sticky, e));
  const svcRules = rulesOf(text, svc);
  t.equal(svcRules.length, 6);
  seps.forEach((sep, i) => {
    t.equal(
      svcRules[i],
      `-A ${svc} -m comment --comment "default/affinity:stun -> ${endpoints[i]!.ip}:3478" -m recent --name ${sep} --rcheck --seconds 10800 --reap -j ${sep}`,
    );
    t.match(rulesOf(text, sep)[1], `-m recent --name ${sep} --set -m udp -p udp -j DNAT --to-destination ${endpoints[i]!.ip}:3478`);
  });
  t.match(svcRules[3], /--probability 0.3333333333/);
});

t.test('iptablesRestoreInput() empties and deletes the chains of endpoints that went away', async (t) => {
  const text = iptablesRestoreInput(4, service, endpoints.slice(1), endpoints);
  const gone = endpointChain(service, endpoints[0]!);
  const lines = text.split('\n');
  t.ok(lines.includes(`:${gone} - [0:0]`));
  t.ok(lines.includes(`-X ${gone}`));
  t.same(rulesOf(text, gone), []);
  t.equal(lines.filter((l) => l.startsWith('-X ')).length, 1, 'live endpoints listed as stale are kept');
  t.match(rulesOf(text, serviceChain(service))[0], /--probability 0.5000000000/);
});

t.test('iptablesRestoreInput() with a cluster CIDR marks traffic from outside it for masquerade', async (t) => {
  const text = iptablesRestoreInput(4, { ...service, clusterCidr: '198.51.100.0/24' }, endpoints);
  t.match(rulesOf(text, serviceChain(service))[0], /-d 203.0.113.100\/32 --dport 3478 ! -s 198.51.100.0\/24 -j KUBE-MARK-MASQ$/);
});

const balanced: ServiceSpec = { ...service, clusterIp: '203.0.113.200', loadBalancerIp: '203.0.113.100', clusterCidr: '198.51.100.0/24' };

t.test('iptablesRestoreInput() with a load balancer IP and externalTrafficPolicy Cluster: KUBE-EXT masquerades, then any endpoint', async (t) => {
  const text = iptablesRestoreInput(4, balanced, endpoints);
  const svc = serviceChain(balanced);
  const ext = externalChain(balanced);
  t.match(ext, /^KUBE-EXT-[A-Z2-7]{16}$/);
  t.equal(ext.slice(9), svc.slice(9), 'the same hash as the Service chain, as kube-proxy names them');
  t.same(rulesOf(text, 'KUBE-SERVICES')[1], `-A KUBE-SERVICES -m comment --comment "default/affinity:stun loadbalancer IP" -m udp -p udp -d 203.0.113.100/32 --dport 3478 -j ${ext}`);
  t.same(rulesOf(text, ext), [
    `-A ${ext} -m comment --comment "masquerade traffic for default/affinity:stun external destinations" -j KUBE-MARK-MASQ`,
    `-A ${ext} -j ${svc}`,
  ]);
  t.notMatch(text, /KUBE-SVL-/);
});

t.test('iptablesRestoreInput() with externalTrafficPolicy Local: KUBE-EXT goes to KUBE-SVL, a random choice of this node\'s endpoints, without SNAT', async (t) => {
  const local = { ...balanced, externalTrafficPolicy: 'Local' as const };
  const mixed: Endpoint[] = [{ ...endpoints[0]!, local: false }, { ...endpoints[1]!, local: true }, { ...endpoints[2]!, local: true }];
  const text = iptablesRestoreInput(4, local, mixed);
  const svc = serviceChain(local);
  const ext = externalChain(local);
  const svl = localServiceChain(local);
  const [, sep1, sep2] = mixed.map((e) => endpointChain(local, e));
  t.same(rulesOf(text, ext), [
    `-A ${ext} -m comment --comment "pod traffic for default/affinity:stun external destinations" -s 198.51.100.0/24 -j ${svc}`,
    `-A ${ext} -m comment --comment "masquerade LOCAL traffic for default/affinity:stun external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
    `-A ${ext} -m comment --comment "route LOCAL traffic for default/affinity:stun external destinations" -m addrtype --src-type LOCAL -j ${svc}`,
    `-A ${ext} -j ${svl}`,
  ]);
  t.same(rulesOf(text, svl), [
    `-A ${svl} -m comment --comment "default/affinity:stun -> 198.51.100.12:3478" -m statistic --mode random --probability 0.5000000000 -j ${sep1}`,
    `-A ${svl} -m comment --comment "default/affinity:stun -> 198.51.100.13:3478" -j ${sep2}`,
  ]);
  t.equal(rulesOf(text, svc).filter((r) => r.includes('statistic')).length, 2, 'the Service chain still lists all three endpoints');
});

t.test('iptablesRestoreInput() with externalTrafficPolicy Local and no local endpoint leaves KUBE-EXT without a way to the pods', async (t) => {
  const text = iptablesRestoreInput(4, { ...balanced, externalTrafficPolicy: 'Local' }, endpoints);
  const ext = externalChain(balanced);
  t.equal(rulesOf(text, ext).length, 3);
  t.notOk(rulesOf(text, ext).some((r) => r.endsWith(`-j ${localServiceChain(balanced)}`)));
  t.same(rulesOf(text, localServiceChain(balanced)), []);
});

t.test('iptablesRestoreInput() without endpoints writes no load balancer rule', async (t) => {
  const text = iptablesRestoreInput(4, balanced, []);
  t.notMatch(text, /loadbalancer IP|KUBE-EXT-/);
});

const service6: ServiceSpec = { ...service, clusterIp: '2001:db8:113:1::100', sessionAffinity: 'ClientIP' };
const endpoints6: Endpoint[] = [
  { ip: '2001:db8:100::11', port: 3478 },
  { ip: '2001:db8:100::12', port: 3478 },
];

t.test('iptablesRestoreInput() for IPv6 (ip6tables): /128 host matches, [address]:port DNAT, the same recent affinity', async (t) => {
  const text = iptablesRestoreInput(6, service6, endpoints6);
  const svc = serviceChain(service6);
  const [sep0, sep1] = endpoints6.map((e) => endpointChain(service6, e));
  t.same(rulesOf(text, 'KUBE-SERVICES'), [
    `-A KUBE-SERVICES -m comment --comment "default/affinity:stun cluster IP" -m udp -p udp -d 2001:db8:113:1::100/128 --dport 3478 -j ${svc}`,
  ]);
  t.same(rulesOf(text, svc), [
    `-A ${svc} -m comment --comment "default/affinity:stun -> [2001:db8:100::11]:3478" -m recent --name ${sep0} --rcheck --seconds 10800 --reap -j ${sep0}`,
    `-A ${svc} -m comment --comment "default/affinity:stun -> [2001:db8:100::12]:3478" -m recent --name ${sep1} --rcheck --seconds 10800 --reap -j ${sep1}`,
    `-A ${svc} -m comment --comment "default/affinity:stun -> [2001:db8:100::11]:3478" -m statistic --mode random --probability 0.5000000000 -j ${sep0}`,
    `-A ${svc} -m comment --comment "default/affinity:stun -> [2001:db8:100::12]:3478" -j ${sep1}`,
  ]);
  t.same(rulesOf(text, sep1!), [
    `-A ${sep1} -m comment --comment default/affinity:stun -s 2001:db8:100::12/128 -j KUBE-MARK-MASQ`,
    `-A ${sep1} -m comment --comment default/affinity:stun -m recent --name ${sep1} --set -m udp -p udp -j DNAT --to-destination [2001:db8:100::12]:3478`,
  ]);
  t.notMatch(text, /\/32/);
});

t.test('endpointChain() hashes the endpoint as kube-proxy writes it, [address]:port for IPv6', async (t) => {
  t.not(endpointChain(service, { ip: '2001:db8:100::11', port: 3478 }), endpointChain(service, { ip: '2001:db8:100::1', port: 13478 }));
});

t.test('iptablesCommands() picks ip6tables and ip6tables-restore for IPv6', async (t) => {
  t.same(iptablesCommands(4), { iptables: 'iptables', restore: 'iptables-restore' });
  t.same(iptablesCommands(6), { iptables: 'ip6tables', restore: 'ip6tables-restore' });
});

t.test('iptablesHookRules() hooks KUBE-SERVICES into PREROUTING and OUTPUT, KUBE-POSTROUTING into POSTROUTING', async (t) => {
  t.same(
    iptablesHookRules().map((rule) => [rule[1], rule.at(-1)]),
    [
      ['PREROUTING', 'KUBE-SERVICES'],
      ['OUTPUT', 'KUBE-SERVICES'],
      ['POSTROUTING', 'KUBE-POSTROUTING'],
    ],
  );
});
