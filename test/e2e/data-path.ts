// The bed itself, before any client figure is trusted: a probe of our own (lib/probe.ts) reaches
// the real servers through the client's NAT and the node's kube-proxy rules, in both layouts, and
// the kernel's conntrack tables agree with what the probe saw. Then teardown leaves nothing.
import t from 'tap';
import { planBed, runPrefix } from './lib/bed-plan.js';
import { inNamespace, must } from './lib/command.js';
import type { ServiceSpec } from './lib/service.js';
import { leftoverNamespaces, TestBed, unsupportedReason, type Layout } from './lib/test-bed.js';
import type { ProbeAnswer } from './lib/probe.js';

const reason = await unsupportedReason();
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  const plan = planBed(`${runPrefix(process.pid)}d-`, 3);
  const bed = await TestBed.create(plan);
  t.teardown(() => bed.destroy());
  await Promise.all(plan.pods.map((pod) => bed.startServer(pod)));
  const service: ServiceSpec = {
    namespace: 'default',
    name: 'affinity',
    portName: 'stun',
    clusterIp: plan.serviceIp,
    port: plan.servicePort,
    sessionAffinity: 'None',
    stickySeconds: 10800,
  };
  const endpoints = plan.pods.map((pod) => ({ ip: pod.ip, port: plan.servicePort }));

  const probe = async (sockets: number): Promise<ProbeAnswer[]> => {
    const out = await must(
      inNamespace(plan.clientNamespace, [
        process.execPath,
        '--import',
        '@tapjs/typescript/import',
        new URL('./lib/probe.ts', import.meta.url).pathname,
        plan.serviceIp,
        String(plan.servicePort),
        String(sockets),
        '2',
      ]),
    );
    return JSON.parse(out) as ProbeAnswer[];
  };

  for (const layout of ['iptables', 'nftables'] satisfies Layout[]) {
    await t.test(`the ${layout} layout DNATs every probe socket to a pod that conntrack names`, async (t) => {
      await bed.flushConntrack(plan.natNamespace);
      await bed.flushConntrack(plan.nodeNamespace);
      await bed.useLayout(layout, service, endpoints);
      const answers = await probe(12);
      t.equal(answers.length, 24, 'every request of every socket was answered');
      const backends = new Map((await bed.nodeServiceFlows()).map((flow) => [flow.seen, flow.backend]));
      const natPorts = await bed.natPorts();
      const podNames = new Set<string>();
      for (const answer of answers) {
        // Plain MASQUERADE keeps a free port: the pod sees the NAT's address and the socket's port.
        t.equal(answer.mapped, `${plan.natPublicIp}:${answer.localPort}`);
        t.equal(natPorts.get(answer.localPort), answer.localPort);
        const podIp = backends.get(answer.mapped!);
        t.equal(plan.pods.find((p) => p.ip === podIp)?.name, answer.pod, `conntrack sends ${answer.mapped} to ${answer.pod}`);
        podNames.add(answer.pod!);
      }
      t.ok(podNames.size >= 2, `random balancing used several pods (${[...podNames].join(', ')})`);
    });
  }

  await t.test('destroy() removes every namespace of the bed', async (t) => {
    await bed.destroy();
    t.same(await leftoverNamespaces(plan.prefix), []);
  });
}
