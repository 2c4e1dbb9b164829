// The JSON report: everything a run measured, for CI and for the README's schema. Built by a pure
// function, written to a temporary file and renamed into place, so a reader (or a Ctrl-C) never
// sees half a report.
import { renameSync, writeFileSync } from 'node:fs';
import type { ClusterEvent } from '../common/cluster-events.js';
import { VERSION } from '../common/version.js';
import type { ServingIdentity, SessionEvent } from './events.js';
import type { RttHistogram } from './rtt-histogram.js';
import type { Session } from './session.js';
import type { ReportTimeline } from './timeline.js';
import { lossPercent, roundMs, type RttSummary, type Totals } from './stats.js';
import { targetIndexOf } from './target-groups.js';
import type { ReportBreaks } from './break-records.js';
import type { AffinityLimits, Verdict } from './verdict.js';
import type { ReportConnections } from './connection-report.js';

export interface ReportTotals {
  sessions: number;
  sent: number;
  received: number;
  lost: number;
  late: number;
  duplicates: number;
  reordered: number;
  lostRequests: number;
  lostReplies: number;
  podChanges: number;
  addressChanges: number;
  lossPercent: number;
  rtt: RttSummary;
  longestOutageMs: number;
}

export interface ReportPod {
  pod: string;
  node: string | null;
  /** Set when the server did not name itself: the reply's source endpoint and SOFTWARE. */
  source: string | null;
  software: string | null;
  /** Sessions whose latest reply came from this pod when the run ended. */
  sessions: number;
  /** Replies received from this pod over the whole run. */
  replies: number;
}

export interface ReportSession {
  session: number;
  /** The 48-bit session id in the transaction id, hex. */
  sessionId: string;
  localPort: number | null;
  sent: number;
  received: number;
  lost: number;
  late: number;
  duplicates: number;
  reordered: number;
  lostRequests: number;
  lostReplies: number;
  pendingAtStop: number;
  ignored: number;
  podChanges: number;
  addressChanges: number;
  lossBursts: number;
  longestOutageMs: number;
  rttAvgMs: number | null;
  rttMaxMs: number | null;
  pod: string | null;
  node: string | null;
  mappedAddress: string | null;
  establishedAt: string | null;
  /** The session's target (`address:port`), in a run over several targets only. */
  target?: string;
}

/** One target of a run over several (dual stack): where, and its sessions' figures alone. */
export interface ReportTarget {
  host: string;
  address: string;
  port: number;
  family: 4 | 6;
  /** `address:port` or `[v6]:port`, as each session's `target` names it. */
  endpoint: string;
  totals: ReportTotals;
  pendingAtStop: number;
}

export interface ReportEvent {
  time: string;
  type: 'pod-change' | 'address-change' | 'loss-burst';
  session: number;
  from?: string;
  to?: string;
  fromNode?: string | null;
  toNode?: string | null;
  consecutive?: number;
  silentMs: number;
}

export interface ReportClusterEvent {
  time: string;
  kind: string;
  subject: string;
  text: string;
}

export interface Attribution {
  /** When the break was seen. */
  time: string;
  /** What broke: a session change or loss burst, or a period whose loss exceeded --max-loss. */
  type: 'pod-change' | 'address-change' | 'loss-burst' | 'period-loss';
  session: number | null;
  /** The cluster events nearest before it, newest first. */
  causes: (ReportClusterEvent & { beforeMs: number })[];
}

export interface ClientReport {
  tool: 'affinity-tester';
  version: string;
  /** The mode that produced it: a client run or the local demo. */
  mode: 'client' | 'demo';
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** True when Ctrl-C/SIGTERM ended the run. */
  interrupted: boolean;
  /** The target; in a run over several, the first of `targets`. */
  target: { host: string; address: string; port: number };
  /** Set in a run over several targets (--target twice, --family both): each one's figures. */
  targets?: ReportTarget[];
  settings: {
    sessions: number;
    intervalMs: number;
    timeoutMs: number;
    rampMs: number;
    payloadSize: number;
    durationMs: number | null;
    maxLossPercent: number;
    maxViolations: number;
    maxStuck: number;
    stuckAfterMs: number;
    /** null: no limit (the default). */
    maxPodChanges: number | null;
    maxAddressChanges: number | null;
  };
  verdict: { passed: boolean; broken: string[]; note?: string };
  totals: ReportTotals;
  /** Requests still within their timeout when the run stopped: not counted lost, nor in lossPercent. */
  pendingAtStop: number;
  /** Datagrams that were not replies to our requests, or undecodable, or too old to track. */
  ignored: number;
  scheduling: { lagP50Ms: number | null; lagP99Ms: number | null; lagMaxMs: number | null; skipped: number };
  /** Datagrams the kernel dropped on the client's own sockets (receive buffer full); null where unknown. */
  clientSocketDrops: number | null;
  /**
   * Errors the session sockets reported, by code: ECONNREFUSED is an ICMP port unreachable
   * (nothing listens at the target), EHOSTUNREACH/ENETUNREACH an ICMP host or network unreachable.
   */
  socketErrors: Record<string, number>;
  pods: ReportPod[];
  sessions: ReportSession[];
  events: ReportEvent[];
  /** Events beyond MAX_REPORT_EVENTS are counted here, not listed. */
  eventsOmitted: number;
  /** What the cluster did (with --watch); `watched: false` and empty lists without a watch. */
  cluster: { watched: boolean; events: ReportClusterEvent[]; attributions: Attribution[] };
  /** Every break classified: expected moves, violations, address changes, stuck sessions; absent in reports from before it. */
  breaks?: ReportBreaks;
  /** Per-second figures, older ones coarsened (client/timeline.ts); absent in reports from before it. */
  timeline?: ReportTimeline;
  /** The transport of the sessions; absent in reports from before TCP (UDP). */
  protocol?: 'udp' | 'tcp';
  /** With --protocol tcp: connections lost and reconnected, per pod and step by step. */
  connections?: ReportConnections;
  /** Set on a report merged from several (`affinity-tester report --json A B`). */
  merged?: MergedFrom;
}

export interface MergedFrom {
  /** The merged reports, in the order given; their sessions are numbered on from `firstSession`. */
  reports: { file: string; startedAt: string; endedAt: string; sessions: number; firstSession: number }[];
  /** Where the reports disagree (settings, target, time), one sentence each. */
  differences: string[];
}

/** Enough for every change of 10,000 sessions several times over, without an unbounded report. */
export const MAX_REPORT_EVENTS = 100_000;

const iso = (ms: number): string => new Date(ms).toISOString();
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function reportEventOf(event: Exclude<SessionEvent, { type: 'established' }>): ReportEvent {
  const base = { time: iso(event.time), type: event.type, session: event.session, silentMs: round3(event.silentMs) };
  switch (event.type) {
    case 'pod-change':
      return { ...base, from: event.from.label, to: event.to.label, fromNode: event.from.node ?? null, toNode: event.to.node ?? null };
    case 'address-change':
      return { ...base, from: event.from, to: event.to };
    case 'loss-burst':
      return { ...base, consecutive: event.consecutive };
  }
}

export function reportClusterEventOf(event: ClusterEvent): ReportClusterEvent {
  return { time: iso(event.time), kind: event.kind, subject: event.subject, text: event.text };
}

/** The run's settings as the report records them. */
export interface RunSettings {
  sessions: number;
  intervalMs: number;
  timeoutMs: number;
  rampMs: number;
  payloadSize: number;
  durationMs?: number;
  limits: AffinityLimits;
  stuckAfterMs: number;
}

export function reportSettingsOf(run: RunSettings): ClientReport['settings'] {
  return {
    sessions: run.sessions,
    intervalMs: run.intervalMs,
    timeoutMs: run.timeoutMs,
    rampMs: run.rampMs,
    payloadSize: run.payloadSize,
    durationMs: run.durationMs ?? null,
    maxLossPercent: run.limits.maxLoss,
    maxViolations: run.limits.maxViolations,
    maxStuck: run.limits.maxStuck,
    stuckAfterMs: run.stuckAfterMs,
    maxPodChanges: run.limits.maxPodChanges ?? null,
    maxAddressChanges: run.limits.maxAddressChanges ?? null,
  };
}

/** How late requests went out (from the scheduler's lag histogram), and how many were skipped. */
export function reportSchedulingOf(lag: RttHistogram, skipped: number): ClientReport['scheduling'] {
  return {
    lagP50Ms: roundMs(lag.percentile(50)),
    lagP99Ms: roundMs(lag.percentile(99)),
    lagMaxMs: lag.count === 0 ? null : roundMs(lag.max),
    skipped,
  };
}

export interface ReportInput {
  mode: 'client' | 'demo';
  startedAt: number;
  endedAt: number;
  interrupted: boolean;
  target: ClientReport['target'];
  settings: RunSettings;
  verdict: Verdict;
  verdictNote?: string;
  totals: Totals;
  rtt: RttSummary;
  scheduling: ClientReport['scheduling'];
  clientSocketDrops: number | undefined;
  socketErrors: Readonly<Record<string, number>>;
  sessions: readonly Session[];
  localPorts: readonly (number | undefined)[];
  identities: readonly ServingIdentity[];
  events: readonly ReportEvent[];
  eventsOmitted: number;
  cluster: ClientReport['cluster'];
  breaks: ReportBreaks;
  timeline?: ReportTimeline;
  /** Several targets: each with its sessions' totals and RTT; session i went to targets[i mod n]. */
  targets?: readonly { target: Omit<ReportTarget, 'totals' | 'pendingAtStop'>; totals: Totals; rtt: RttSummary }[];
  protocol?: 'udp' | 'tcp';
  connections?: ReportConnections;
}

export function totalsForReport(totals: Totals, rtt: RttSummary): ReportTotals {
  return {
    sessions: totals.sessions,
    sent: totals.sent,
    received: totals.received,
    lost: totals.lost,
    late: totals.late,
    duplicates: totals.duplicates,
    reordered: totals.reordered,
    lostRequests: totals.lostRequests,
    lostReplies: totals.lostReplies,
    podChanges: totals.podChanges,
    addressChanges: totals.addressChanges,
    lossPercent: Math.round(lossPercent(totals.lost, totals.sent, totals.pending) * 1e6) / 1e6,
    rtt,
    longestOutageMs: round3(totals.longestOutageMs),
  };
}

export function buildReport(input: ReportInput): ClientReport {
  const targets = input.targets !== undefined && input.targets.length > 1 ? input.targets : undefined;
  const shares = new Map<string, number>();
  for (const { identity } of input.sessions) if (identity) shares.set(identity.key, (shares.get(identity.key) ?? 0) + 1);
  const pods: ReportPod[] = input.identities
    .map((identity) => ({
      pod: identity.label,
      node: identity.node ?? null,
      source: identity.source ?? null,
      software: identity.named ? null : (identity.software ?? null),
      sessions: shares.get(identity.key) ?? 0,
      replies: identity.replies,
    }))
    .sort((a, b) => a.pod.localeCompare(b.pod));
  return {
    tool: 'affinity-tester',
    version: VERSION,
    mode: input.mode,
    startedAt: iso(input.startedAt),
    endedAt: iso(input.endedAt),
    durationMs: Math.round(input.endedAt - input.startedAt),
    interrupted: input.interrupted,
    target: input.target,
    ...(targets === undefined
      ? {}
      : { targets: targets.map((t) => ({ ...t.target, totals: totalsForReport(t.totals, t.rtt), pendingAtStop: t.totals.pending })) }),
    settings: reportSettingsOf(input.settings),
    verdict: { passed: input.verdict.passed, broken: input.verdict.broken, ...(input.verdictNote ? { note: input.verdictNote } : {}) },
    totals: totalsForReport(input.totals, input.rtt),
    pendingAtStop: input.totals.pending,
    ignored: input.totals.ignored,
    scheduling: input.scheduling,
    clientSocketDrops: input.clientSocketDrops ?? null,
    socketErrors: { ...input.socketErrors },
    pods,
    sessions: input.sessions.map((session, i) => {
      const reported = reportSessionOf(session, input.localPorts[i]);
      return targets === undefined ? reported : { ...reported, target: targets[targetIndexOf(i, targets.length)]!.target.endpoint };
    }),
    events: [...input.events],
    eventsOmitted: input.eventsOmitted,
    cluster: input.cluster,
    breaks: input.breaks,
    ...(input.timeline === undefined ? {} : { timeline: input.timeline }),
    ...(input.protocol === undefined ? {} : { protocol: input.protocol }),
    ...(input.connections === undefined ? {} : { connections: input.connections }),
  };
}

function reportSessionOf(session: Session, localPort: number | undefined): ReportSession {
  const c = session.counters;
  return {
    session: session.number,
    sessionId: session.sessionId.toString(16).padStart(12, '0'),
    localPort: localPort ?? null,
    sent: c.sent,
    received: c.received,
    lost: session.lost,
    late: c.late,
    duplicates: c.duplicates,
    reordered: c.reordered,
    lostRequests: c.lostRequests,
    lostReplies: c.lostReplies,
    pendingAtStop: session.pending,
    ignored: c.ignored,
    podChanges: c.podChanges,
    addressChanges: c.addressChanges,
    lossBursts: c.lossBursts,
    longestOutageMs: round3(c.longestOutageMs),
    rttAvgMs: c.received === 0 ? null : round3(c.rttSumMs / c.received),
    rttMaxMs: c.received === 0 ? null : round3(c.rttMaxMs),
    pod: session.identity?.label ?? null,
    node: session.identity?.node ?? null,
    mappedAddress: session.mapped ?? null,
    establishedAt: c.establishedAt === undefined ? null : iso(c.establishedAt),
  };
}

/**
 * Writes the report completely or not at all (temporary file, then rename); returns why it could
 * not, as one line, or undefined when it is written.
 */
export function writeReport(path: string, report: ClientReport): string | undefined {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify(report, null, 2) + '\n');
    renameSync(temporary, path);
    return undefined;
  } catch (error) {
    return `cannot write the report ${path}: ${(error as Error).message}`;
  }
}
