// The bed itself, before any client figure is trusted: a probe of our own (lib/probe.ts) reaches
// the real servers through the client's NAT and the node's kube-proxy rules, in both layouts and
// both IP families, and the kernel's conntrack tables agree with what the probe saw. Then
// teardown leaves nothing.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { formatEndpoint } from '../../common/ip-address.js';
import { planBed, runPrefix } from './lib/bed-plan.js';
import { inNamespace, must } from './lib/command.js';
import type { Family, ServiceSpec } from './lib/service.js';
import { leftoverNamespaces, TestBed, unsupportedReason, type Layout } from './lib/test-bed.js';
import type { ProbeAnswer } from './lib/probe.js';

const reason = await unsupportedReason();
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  const LAYOUTS = ['iptables', 'nftables'] satisfies Layout[];

  /** What one layout did to the probe in one bed: the answers, and the kernel's tables after. */
  interface Seen {
    answers: ProbeAnswer[];
    backends: Map<string, string>;
    natPorts: Map<number, number>;
  }

  const probeThrough = async (bed: TestBed, layout: Layout): Promise<Seen> => {
    const plan = bed.plan;
    const service: ServiceSpec = {
      namespace: 'default',
      name: 'affinity',
      portName: 'stun',
      clusterIp: plan.serviceIp,
      port: plan.servicePort,
      sessionAffinity: 'None',
      stickySeconds: 10800,
    };
    await bed.flushConntrack(plan.natNamespace);
    await bed.flushConntrack(plan.nodeNamespace);
    await bed.useLayout(layout, service, plan.pods.map((pod) => ({ ip: pod.ip, port: plan.servicePort })));
    const out = await must(
      inNamespace(plan.clientNamespace, [
        process.execPath,
        fileURLToPath(new URL('./lib/probe.js', import.meta.url)),
        plan.serviceIp,
        String(plan.servicePort),
        '12',
        '2',
      ]),
    );
    return {
      answers: JSON.parse(out) as ProbeAnswer[],
      backends: new Map((await bed.nodeServiceFlows()).map((flow) => [flow.seen, flow.backend])),
      natPorts: await bed.natPorts(),
    };
  };

  // One bed per family, built and probed at the same time: most of the time is processes starting.
  const families: Family[] = [4, 6];
  const beds = await Promise.all(
    families.map(async (family) => {
      const bed = await TestBed.create(planBed(`${runPrefix(process.pid)}d${family}-`, 3, family));
      t.teardown(() => bed.destroy());
      await Promise.all(bed.plan.pods.map((pod) => bed.startServer(pod)));
      const seen = new Map<Layout, Seen>();
      for (const layout of LAYOUTS) seen.set(layout, await probeThrough(bed, layout));
      return { bed, seen };
    }),
  );

  for (const { bed, seen } of beds) {
    const plan = bed.plan;
    for (const layout of LAYOUTS) {
      t.test(`the ${layout} layout over IPv${plan.family} DNATs every probe socket to a pod that conntrack names`, async (t) => {
        const { answers, backends, natPorts } = seen.get(layout)!;
        t.equal(answers.length, 24, 'every request of every socket was answered');
        const podNames = new Set<string>();
        for (const answer of answers) {
          // Plain MASQUERADE keeps a free port: the pod sees the NAT's address and the socket's port.
          t.equal(answer.mapped, formatEndpoint(plan.natPublicIp, answer.localPort));
          t.equal(natPorts.get(answer.localPort), answer.localPort);
          const podIp = backends.get(answer.mapped!);
          t.equal(plan.pods.find((p) => p.ip === podIp)?.name, answer.pod, `conntrack sends ${answer.mapped} to ${answer.pod}`);
          podNames.add(answer.pod!);
        }
        t.ok(podNames.size >= 2, `random balancing used several pods (${[...podNames].join(', ')})`);
      });
    }
    t.test(`destroy() removes every namespace of the IPv${plan.family} bed`, async (t) => {
      await bed.destroy();
      t.same(await leftoverNamespaces(plan.prefix), []);
    });
  }
}
