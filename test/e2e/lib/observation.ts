// What a scenario observes and how it is compared: the client run with the node's conntrack
// event log recorded alongside, snapshots of the node's table, and the checks every scenario
// shares (the client's pods and addresses against the kernel's record). Checks are data, so
// that the tap test asserts each one and `npm run e2e` prints them.
import { setTimeout as sleep } from 'node:timers/promises';
import { formatEndpoint } from '../../../common/ip-address.js';
import { podByIp } from './bed-plan.js';
import { ClientRun, type ClientResult, type ClientSettings, type ReportView } from './client-run.js';
import { answersByClient, type Answer } from './conntrack.js';
import type { Protocol } from './service.js';
import type { TestBed } from './test-bed.js';

export interface Check {
  name: string;
  pass: boolean;
  detail?: string;
}

/** The node's conntrack table: the pod of each client flow, by the client's address as the
 * node received it (`byClient`) and as the pod sees it (`bySeen`, what the client reports).
 * For TCP, the established connections. */
export async function nodeSnapshot(bed: TestBed, protocol: Protocol = 'udp'): Promise<{ byClient: Map<string, string>; bySeen: Map<string, string> }> {
  const byClient = new Map<string, string>();
  const bySeen = new Map<string, string>();
  for (const flow of await bed.nodeServiceFlows(protocol)) {
    const pod = podByIp(bed.plan, flow.backend)?.name ?? flow.backend;
    byClient.set(flow.client, pod);
    bySeen.set(flow.seen, pod);
  }
  return { byClient, bySeen };
}

export function check(name: string, pass: boolean, detail?: string): Check {
  return detail === undefined ? { name, pass } : { name, pass, detail };
}

export function same<T>(name: string, actual: T, expected: T): Check {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  return check(name, a === e, a === e ? undefined : `expected ${e}, got ${a}`);
}

export function changedSessions(report: ReportView, type: 'pod-change' | 'address-change'): number[] {
  return [...new Set(report.events.filter((e) => e.type === type).map((e) => e.session))].sort((a, b) => a - b);
}

/** The pod a session started on: the `from` of its first pod change, else where it ended. */
export function firstPod(report: ReportView, session: number): string | null {
  const change = report.events.find((e) => e.type === 'pod-change' && e.session === session);
  return change?.from ?? report.sessions.find((s) => s.session === session)?.pod ?? null;
}

/** The address a session was first seen at: the `from` of its first address change, else its last. */
export function firstMapped(report: ReportView, session: number): string | null {
  const change = report.events.find((e) => e.type === 'address-change' && e.session === session);
  return change?.from ?? report.sessions.find((s) => s.session === session)?.mappedAddress ?? null;
}

/** Every session ended on the pod the node's conntrack sends its current flow to. */
export function finalPodsMatchConntrack(report: ReportView, bySeen: Map<string, string>): Check {
  const wrong = report.sessions.filter((s) => s.mappedAddress === null || bySeen.get(s.mappedAddress) !== s.pod);
  return check(
    "every session's final pod is the pod conntrack DNATs its flow to",
    wrong.length === 0 && report.sessions.length > 0,
    wrong.length === 0 ? undefined : `mismatched sessions: ${wrong.map((s) => `#${s.session} ${s.mappedAddress} reported ${s.pod}, conntrack ${s.mappedAddress ? bySeen.get(s.mappedAddress) : '?'}`).join('; ')}`,
  );
}

export interface Observed {
  client: ClientResult;
  /** From the node's conntrack event log: who answered each client address, in order. */
  answered: Map<string, Answer[]>;
  /** Each session's address as the node receives it (the NAT's public address and port), from the NAT's conntrack. */
  upstream: Map<number, string>;
}

/**
 * Runs the client while the node's conntrack events are recorded; `act`, when given, is called
 * once every session is established, and the run goes on after it (ClientRun.end()).
 */
export async function withClient(
  context: { bed: TestBed; keepAs?: string },
  settings: ClientSettings,
  act?: (run: ClientRun) => Promise<void>,
): Promise<Observed> {
  const { bed } = context;
  const plan = bed.plan;
  const watch = await bed.watchConntrack(plan.nodeNamespace);
  const run = new ClientRun(bed, settings, { acts: act !== undefined, keepAs: context.keepAs });
  await run.waitEstablished();
  // A few requests per session first, so each flow is settled in conntrack.
  await sleep(3 * settings.intervalMs);
  await act?.(run);
  const client = await run.end();
  const events = await watch.stop();
  const natPorts = await bed.natPorts();
  const upstream = new Map<number, string>();
  for (const s of client.report.sessions) {
    const port = s.localPort === null ? undefined : natPorts.get(s.localPort);
    if (port !== undefined) upstream.set(s.session, formatEndpoint(plan.natPublicIp, port));
  }
  return { client, answered: answersByClient(events, plan.serviceIp, plan.servicePort), upstream };
}

function collapse<T>(items: readonly T[]): T[] {
  return items.filter((item, i) => i === 0 || item !== items[i - 1]);
}

/** What the kernel's event log says a session should have seen: its pods and reflected addresses, in order. */
function kernelPath(bed: TestBed, observed: Observed, session: number): { pods: string[]; addresses: string[] } {
  const answers = observed.answered.get(observed.upstream.get(session) ?? '') ?? [];
  return {
    pods: collapse(answers.map((a) => podByIp(bed.plan, a.backend)?.name ?? a.backend)),
    addresses: collapse(answers.map((a) => a.seen)),
  };
}

/** Each pod change the kernel made visible to a session, in order: from which pod to which. */
export function kernelMoves(bed: TestBed, observed: Observed): { session: number; from: string; to: string }[] {
  return observed.client.report.sessions.flatMap((s) => {
    const { pods } = kernelPath(bed, observed, s.session);
    return pods.slice(1).map((to, i) => ({ session: s.session, from: pods[i]!, to }));
  });
}

/** Pod and address changes the kernel made visible to the sessions. */
export function kernelChanges(bed: TestBed, observed: Observed): { pods: number; addresses: number } {
  const changes = { pods: 0, addresses: 0 };
  for (const s of observed.client.report.sessions) {
    const path = kernelPath(bed, observed, s.session);
    changes.pods += Math.max(0, path.pods.length - 1);
    changes.addresses += Math.max(0, path.addresses.length - 1);
  }
  return changes;
}

/**
 * Each session's reported pods and reflected addresses, in order, are what the node's conntrack
 * event log shows answered its flow, including changes a before/after snapshot cannot see.
 */
export function pathsMatchKernel(bed: TestBed, observed: Observed): Check {
  const { report } = observed.client;
  const wrong: string[] = [];
  for (const s of report.sessions) {
    const kernel = kernelPath(bed, observed, s.session);
    const pods = [firstPod(report, s.session), ...report.events.filter((e) => e.type === 'pod-change' && e.session === s.session).map((e) => e.to)];
    const addresses = [firstMapped(report, s.session), ...report.events.filter((e) => e.type === 'address-change' && e.session === s.session).map((e) => e.to)];
    if (JSON.stringify(pods) !== JSON.stringify(kernel.pods)) wrong.push(`#${s.session} pods ${pods.join(' -> ')}, kernel ${kernel.pods.join(' -> ') || 'nothing'}`);
    if (JSON.stringify(addresses) !== JSON.stringify(kernel.addresses)) wrong.push(`#${s.session} addresses ${addresses.join(' -> ')}, kernel ${kernel.addresses.join(' -> ') || 'nothing'}`);
  }
  return check(
    "every session's pods and reflected addresses, in order, are those that answered its flow in the node's conntrack event log",
    wrong.length === 0 && report.sessions.length > 0,
    wrong.join('; ') || undefined,
  );
}
