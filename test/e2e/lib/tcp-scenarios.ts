// The TCP scenarios (issue 12): long-lived connections through the same kube-proxy rules, each
// compared with the node's TCP conntrack table. An endpoint removed with its conntrack entries
// deleted cuts exactly its pod's connections; a rolling replacement loses and reconnects them step
// by step (the client's per-pod connection table), more of them without the server's
// --shutdown-delay draining than with it; and the stability gate passes on a healthy bed and
// fails under loss. They run on a bed of their own, with pods for the replacement.
import { setTimeout as sleep } from 'node:timers/promises';
import { podByIp, type PodPlan } from './bed-plan.js';
import { runGateClient, type ClientResult, type ClientSettings, type GateSettings, type LoggedEvent } from './client-run.js';
import { connectionStepsTable } from './connection-steps.js';
import { check, finalPodsMatchConntrack, nodeSnapshot, same, withClient, type Check } from './observation.js';
import { BASE, busiestPod, endpointOf, sessionsList, type Scenario, type ScenarioContext } from './scenarios.js';

/** The UDP scenarios' short runs, over TCP. */
const TCP: ClientSettings = { ...BASE, protocol: 'tcp' };

/** Three old pods replaced by three new ones. */
const ROLLING_PODS = 6;
/** Between two steps of the replacement: the reconnections of one step (100 ms back-off) settle before the next. */
const STEP_MS = 1200;
/**
 * The draining server's --shutdown-delay: longer than the whole replacement after its own step,
 * so that every old pod closes its connections once only new pods are endpoints.
 */
const DRAIN_MS = 3 * STEP_MS;
/** After the last server exited: the back-off, the first answer and one stats tick that shows the connections open again. */
const SETTLE_MS = 1500;

function eventsOf(client: ClientResult, event: string): LoggedEvent[] {
  return client.events.filter((e) => e.event === event);
}

function sessionsOf(events: readonly LoggedEvent[]): number[] {
  return events.map((e) => e.session!).sort((a, b) => a - b);
}

const endpointRemoval: Scenario = {
  id: 20,
  title: 'TCP: endpoint removed, its conntrack entries deleted',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  pods: 4,
  async run(context) {
    const { bed } = context;
    let first = new Map<number, { pod: string; mapped: string | undefined }>();
    let before = new Map<string, string>();
    let victim = '';
    let after = new Map<string, string>();
    // Stopped once the cut connections are back, however long a loaded machine takes.
    const { client } = await withClient(context, { ...TCP, durationMs: 120_000 }, async (run) => {
      first = run.establishedSessions();
      before = (await nodeSnapshot(bed, 'tcp')).bySeen;
      victim = busiestPod(before, context.baseEndpoints.map((e) => podByIp(bed.plan, e.ip)!.name));
      const pod = bed.plan.pods.find((p) => p.name === victim)!;
      const onPod = [...before.values()].filter((name) => name === victim).length;
      await bed.syncEndpoints(context.service, context.baseEndpoints.filter((e) => e.ip !== pod.ip));
      await bed.deleteEndpointFlows(pod.ip, 'tcp');
      // The connections conntrack holds while the client still runs (they close with it): once
      // the cut ones are back, or after the time the whole run would take, and the checks say
      // what is missing.
      await run.waitForEvents('reconnected', onPod, TCP.durationMs);
      await sleep(3 * TCP.intervalMs);
      after = (await nodeSnapshot(bed, 'tcp')).bySeen;
      run.stop();
    });
    const { report } = client;
    const onVictim = [...first].filter(([, s]) => before.get(s.mapped ?? '') === victim).map(([n]) => n).sort((a, b) => a - b);
    const misplaced = [...first].filter(([, s]) => before.get(s.mapped ?? '') !== s.pod);
    const lost = eventsOf(client, 'connection-lost');
    const back = eventsOf(client, 'reconnected');
    const totals = report.connections?.totals;
    const ends = [...new Set(lost.map((e) => e.end))].join(', ');
    return {
      expected: `${onVictim.length} connections lost (those conntrack had on ${victim}: ${sessionsList(onVictim)}), each reconnected to another pod; others none`,
      reported: `${totals?.lost ?? '?'} lost (${sessionsList(sessionsOf(lost))}; ${ends || 'none'}), ${totals?.reconnected ?? '?'} reconnected, ${totals?.moved ?? '?'} on another pod`,
      client,
      checks: [
        same('every session opened a connection', first.size, TCP.sessions),
        check(
          "each connection's first pod is the pod the node's conntrack DNATs it to",
          misplaced.length === 0,
          misplaced.map(([n, s]) => `#${n} ${s.mapped} reported ${s.pod}, conntrack ${before.get(s.mapped ?? '')}`).join('; ') || undefined,
        ),
        check(`conntrack had connections on ${victim}`, onVictim.length > 0),
        same(`exactly the connections on ${victim} are lost, once each`, sessionsOf(lost), onVictim),
        same(`each was lost on ${victim}`, lost.map((e) => e.pod), onVictim.map(() => victim)),
        same('each reconnected once, to another pod', sessionsOf(back.filter((e) => e.moved === true && e.to !== victim)), onVictim),
        same('the report counts them lost, reconnected and moved', [totals?.lost, totals?.reconnected, totals?.moved], [onVictim.length, onVictim.length, onVictim.length]),
        finalPodsMatchConntrack(report, after),
      ],
    };
  },
};

/** One old pod replaced: how many connections the node's conntrack had on it when its server got SIGTERM. */
interface ReplacementStep {
  old: string;
  fresh: string;
  conntrack: number;
}

interface Replacement {
  client: ClientResult;
  steps: ReplacementStep[];
  /** The node's TCP conntrack at the end, before the client stopped, by the client's address as the pod sees it. */
  after: Map<string, string>;
  /** When the last endpoint change was made (epoch ms). */
  lastChange: number;
}

/**
 * A rolling replacement under a TCP client, as a Deployment does it: for each old pod, a new
 * pod (already running) becomes an endpoint, the old one's endpoint goes, its server gets SIGTERM.
 * With `drainMs` the old servers run with --shutdown-delay and close their connections that long
 * after the signal. The client runs until every old server has exited and the connections are back.
 */
async function rollingReplacement(context: ScenarioContext, drainMs: number): Promise<Replacement> {
  const { bed, service } = context;
  const old = context.baseEndpoints.map((e) => podByIp(bed.plan, e.ip)!);
  const fresh = bed.plan.pods.filter((p) => !old.includes(p)).slice(0, old.length);
  // The old pods run (again, after an earlier replacement), with the drain asked for.
  await Promise.all(
    old.map(async (pod: PodPlan) => {
      if (drainMs > 0) await bed.killServer(pod);
      if (!bed.runningServers().includes(pod.name)) await bed.startServer(pod, undefined, drainMs > 0 ? ['--shutdown-delay', `${drainMs}ms`] : []);
    }),
  );
  await bed.syncEndpoints(service, context.baseEndpoints);
  const steps: ReplacementStep[] = [];
  let lastChange = 0;
  let after = new Map<string, string>();
  // Long enough for any machine; the scenario stops the client when the replacement is over.
  const { client } = await withClient(context, { ...TCP, durationMs: 120_000 }, async (run) => {
    // The table's first row then shows the connections on the old pods.
    await run.waitForEvents('connections', 1, 2000);
    let endpoints = [...context.baseEndpoints];
    const exits: Promise<number | null>[] = [];
    for (const [k, pod] of old.entries()) {
      const started = Date.now();
      endpoints = [...endpoints, endpointOf(bed.plan, fresh[k]!)];
      await bed.syncEndpoints(service, endpoints);
      endpoints = endpoints.filter((e) => e.ip !== pod.ip);
      await bed.syncEndpoints(service, endpoints);
      lastChange = Date.now();
      const onPod = [...(await nodeSnapshot(bed, 'tcp')).bySeen.values()].filter((name) => name === pod.name).length;
      exits.push(bed.terminateServer(pod));
      steps.push({ old: pod.name, fresh: fresh[k]!.name, conntrack: onPod });
      if (k < old.length - 1) await sleep(Math.max(0, STEP_MS - (Date.now() - started)));
    }
    await Promise.all(exits);
    await sleep(SETTLE_MS);
    after = (await nodeSnapshot(bed, 'tcp')).bySeen;
    run.stop();
  });
  return { client, steps, after, lastChange };
}

/** The checks every replacement passes: per old pod, the client lost what conntrack had on it; all came back to new pods. */
function replacementChecks(r: Replacement, label: string): Check[] {
  const c = r.client.report.connections;
  const lostOn = (pod: string) => c?.pods.find((row) => row.pod === pod)?.lost ?? 0;
  const fresh = r.steps.map((s) => s.fresh);
  const lastOpen = c?.steps.at(-1)?.open ?? {};
  const openElsewhere = Object.entries(lastOpen).filter(([pod, n]) => n > 0 && !fresh.includes(pod));
  return [
    same(
      `${label}: each old pod's lost connections are those the node's conntrack had on it at its SIGTERM`,
      r.steps.map((s) => `${s.old} ${lostOn(s.old)}`),
      r.steps.map((s) => `${s.old} ${s.conntrack}`),
    ),
    same(`${label}: every lost connection reconnected, none gave up`, [c?.totals.reconnected, c?.totals.gaveUp], [c?.totals.lost, 0]),
    check(
      `${label}: at the end every connection is open on a new pod`,
      openElsewhere.length === 0 && Object.values(lastOpen).reduce((a, b) => a + b, 0) === TCP.sessions,
      JSON.stringify(lastOpen),
    ),
    finalPodsMatchConntrack(r.client.report, r.after),
  ];
}

function stepsSummary(r: Replacement): string {
  return r.steps.map((s) => `${s.old}->${s.fresh} ${s.conntrack}`).join(', ');
}

function lostPerPod(r: Replacement): string {
  const c = r.client.report.connections;
  return r.steps.map((s) => `${s.old} ${c?.pods.find((row) => row.pod === s.old)?.lost ?? 0}`).join(', ');
}

/** The client's per-tick connection table for the old and new pods. */
function stepsTable(r: Replacement, title: string): string[] {
  const pods = [...r.steps.map((s) => s.old), ...r.steps.map((s) => s.fresh)];
  return [title, ...connectionStepsTable(r.client.report.connections?.steps ?? [], pods).map((line) => `  ${line}`)];
}

const rollingUpdate: Scenario = {
  id: 21,
  title: 'TCP: rolling replacement of the pods, one at a time',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  pods: ROLLING_PODS,
  async run(context) {
    const r = await rollingReplacement(context, 0);
    const totals = r.client.report.connections?.totals;
    return {
      expected: `lost per old pod as conntrack had them at its SIGTERM (${stepsSummary(r)}), all reconnected to new pods`,
      reported: `lost ${lostPerPod(r)}: ${totals?.lost ?? '?'} in all, ${totals?.reconnected ?? '?'} reconnected`,
      client: r.client,
      checks: replacementChecks(r, 'replacement'),
      detail: stepsTable(r, 'connections per pod at each stats tick (the client\'s table):'),
    };
  },
};

const drainingUpdate: Scenario = {
  id: 22,
  title: 'TCP: rolling replacement with --shutdown-delay draining vs without',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  pods: ROLLING_PODS,
  async run(context) {
    const plain = await rollingReplacement(context, 0);
    const drained = await rollingReplacement(context, DRAIN_MS);
    const lost = (r: Replacement) => r.client.report.connections?.totals.lost ?? NaN;
    const landedOld = eventsOf(drained.client, 'reconnected').filter((e) => !drained.steps.some((s) => s.fresh === e.to));
    const firstClose = Math.min(...eventsOf(drained.client, 'connection-lost').map((e) => e.at));
    return {
      expected: `with draining each connection lost once (${TCP.sessions}), without more (reconnections land on old pods replaced later)`,
      reported: `lost without draining ${lost(plain)} (${lostPerPod(plain)}), with --shutdown-delay ${DRAIN_MS / 1000}s ${lost(drained)} (${lostPerPod(drained)})`,
      client: { code: Math.max(plain.client.code ?? 0, drained.client.code ?? 0), stdout: `[without draining]\n${plain.client.stdout}[with --shutdown-delay ${DRAIN_MS}ms]\n${drained.client.stdout}`, stderr: plain.client.stderr + drained.client.stderr },
      checks: [
        ...replacementChecks(plain, 'without draining'),
        ...replacementChecks(drained, 'with draining'),
        check('with draining the first connection closed after the last endpoint change', firstClose > drained.lastChange, `${Math.round(firstClose - drained.lastChange)} ms after`),
        same('with draining every connection is lost exactly once', lost(drained), TCP.sessions),
        same('with draining every reconnection lands on a new pod', landedOld.map((e) => `#${e.session} ${e.to}`), []),
        check('fewer connections are lost with draining than without', lost(drained) < lost(plain), `${lost(drained)} vs ${lost(plain)}`),
      ],
      detail: [...stepsTable(plain, 'without draining, connections per pod at each stats tick:'), ...stepsTable(drained, `with --shutdown-delay ${DRAIN_MS}ms:`)],
    };
  },
};

/** The gate's tries: the short runs' sessions and pace (BASE), a 2 s window. */
const GATE_WINDOW_MS = 2000;
const GATE_LOSS = 0.05;

const stabilityGate: Scenario = {
  id: 23,
  title: '--until-stable: passes on a healthy bed, fails under 5% loss',
  layouts: ['iptables', 'nftables'],
  families: [4, 6],
  pods: 4,
  async run(context) {
    const { bed } = context;
    const healthyGate: GateSettings = { windowMs: GATE_WINDOW_MS, maxTries: 3, retryWaitMs: 500, protocol: 'both' };
    const lossyGate: GateSettings = { windowMs: GATE_WINDOW_MS, maxTries: 2, retryWaitMs: 500, protocol: 'udp' };
    const healthy = await runGateClient(bed, BASE, healthyGate);
    await bed.setLoss(GATE_LOSS);
    const lossy = await runGateClient(bed, BASE, lossyGate);
    const counters = await bed.lossCounters();
    await bed.clearLoss();
    const verdict = (stdout: string) => /(NOT )?STABLE[^\n]*/.exec(stdout)?.[0] ?? 'no verdict line';
    const tryLines = lossy.stdout.split('\n').filter((line) => /^ {2}try \d+\/\d+: udp: .*requests lost/.test(line));
    return {
      expected: `healthy (UDP and TCP): stable after 1 try, exit 0; ${GATE_LOSS * 100}% loss: not stable after ${lossyGate.maxTries} tries, exit 1`,
      reported: `healthy: "${verdict(healthy.stdout)}" exit ${healthy.code}; loss: "${verdict(lossy.stdout)}" exit ${lossy.code} (kernel dropped ${counters.requestsDropped} requests, ${counters.repliesDropped} replies)`,
      client: {
        code: Math.max(healthy.code ?? 0, lossy.code ?? 0),
        stdout: `[healthy bed]\n${healthy.stdout}[${GATE_LOSS * 100}% loss]\n${lossy.stdout}`,
        stderr: healthy.stderr + lossy.stderr,
      },
      checks: [
        same('healthy: the gate exits 0', healthy.code, 0),
        check('healthy: stable within the first try', /^STABLE: .*, after 1 try$/m.test(healthy.stdout), verdict(healthy.stdout)),
        same('under loss: the gate exits 1', lossy.code, 1),
        check(`under loss: not stable after its ${lossyGate.maxTries} tries`, lossy.stdout.includes(`NOT STABLE after ${lossyGate.maxTries} tries of ${lossyGate.maxTries}`), verdict(lossy.stdout)),
        same('under loss: each try says it lost requests', tryLines.length, lossyGate.maxTries),
        check('the kernel dropped requests and replies', counters.requestsDropped > 0 && counters.repliesDropped > 0, JSON.stringify(counters)),
      ],
    };
  },
};

export const TCP_SCENARIOS: readonly Scenario[] = [endpointRemoval, rollingUpdate, drainingUpdate, stabilityGate];
