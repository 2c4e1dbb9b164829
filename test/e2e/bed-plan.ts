import t from 'tap';
import { interfaceNames, MAX_INTERFACE_NAME, namespaceNames, planBed, podByIp, runPrefix } from './lib/bed-plan.js';

t.test('planBed() names everything with the run prefix, within the 15-byte interface limit', async (t) => {
  const prefix = runPrefix(4_194_304); // the largest Linux pid
  const plan = planBed(prefix, 9);
  for (const name of [...namespaceNames(plan), ...interfaceNames(plan)]) t.ok(name.startsWith(prefix), name);
  for (const name of interfaceNames(plan)) t.ok(name.length <= MAX_INTERFACE_NAME, `${name} fits`);
  t.equal(new Set(interfaceNames(plan)).size, interfaceNames(plan).length, 'interface names are distinct');
  t.equal(namespaceNames(plan).length, 3 + 9);
});

t.test('planBed() uses only documentation addresses (RFC 5737)', async (t) => {
  const plan = planBed('at1-', 4);
  const documentation = /^(192\.0\.2|198\.51\.100|203\.0\.113)\./;
  for (const ip of [plan.clientIp, plan.natInsideIp, plan.natPublicIp, plan.nodeUplinkIp, plan.bridgeIp, plan.serviceIp, ...plan.pods.map((p) => p.ip)]) {
    t.match(ip, documentation);
  }
  t.same(plan.pods.map((p) => p.name), ['pod-1', 'pod-2', 'pod-3', 'pod-4']);
  t.equal(podByIp(plan, '198.51.100.12')?.name, 'pod-2');
  t.equal(podByIp(plan, '198.51.100.99'), undefined);
});

t.test('planBed() for IPv6 uses only 2001:db8::/32 (RFC 3849), one /64 per network, the same names', async (t) => {
  const plan = planBed('at1-', 2, 6);
  t.equal(plan.family, 6);
  const addresses = [plan.clientIp, plan.natInsideIp, plan.natPublicIp, plan.nodeUplinkIp, plan.bridgeIp, plan.serviceIp, ...plan.pods.map((p) => p.ip)];
  t.same(addresses, ['2001:db8:2::10', '2001:db8:2::1', '2001:db8:113::2', '2001:db8:113::1', '2001:db8:100::1', '2001:db8:113:1::100', '2001:db8:100::11', '2001:db8:100::12']);
  t.same(plan.prefixLengths, { clientLan: 64, uplink: 64, pods: 64 });
  t.equal(plan.podCidr, '2001:db8:100::/64');
  t.same(interfaceNames(plan), interfaceNames(planBed('at1-', 2, 4)));
  t.equal(podByIp(plan, '2001:db8:100::12')?.name, 'pod-2');
});

t.test('planBed() refuses a pod count it cannot address or a prefix too long for interface names', async (t) => {
  t.throws(() => planBed('at1-', 0), RangeError);
  t.throws(() => planBed('at1-', 51), RangeError);
  t.throws(() => planBed('a-very-long-prefix-', 3), /longer than 15 bytes/);
});
