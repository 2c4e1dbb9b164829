// Classified breaks as plain JSON records, for the report and the NDJSON log: pods by name and
// node instead of identity objects, times as ISO strings, durations rounded to the microsecond as
// the rest of the report has them. Pure.
import type { BreakClassifier, BreakCounts, BreakFinding, PodBreakCounts } from './break-classifier.js';
import type { BreakGroup } from './break-groups.js';
import type { ServingIdentity } from './events.js';

export interface MoveRecord {
  type: 'move';
  time: string;
  session: number;
  from: string;
  fromNode: string | null;
  to: string;
  toNode: string | null;
  class: 'expected' | 'violation';
  rule: string;
  confidence: 'high' | 'low';
  evidence: string;
  silentMs: number;
  /** How long the session had been stuck when it moved; null when it was not. */
  stuckMs: number | null;
  /** The cluster event that decided it (kind, text, time); null for the other rules. */
  cause: { kind: string; text: string; time: string } | null;
  answeredAfter: number | null;
  decidedAt: string;
}

export interface AddressChangeRecord {
  type: 'address-change';
  time: string;
  session: number;
  from: string;
  to: string;
  class: 'same-pod' | 'with-pod-change';
  pod: string | null;
  toPod: string | null;
  evidence: string;
  silentMs: number;
}

export interface StuckRecord {
  type: 'stuck' | 'stuck-end';
  time: string;
  session: number;
  since: string;
  pod: string | null;
  node: string | null;
  cause: string;
  /** stuck-end only: how long, whether the session was answered again and by whom. */
  durationMs?: number;
  recovered?: boolean;
  to?: string | null;
}

export type BreakRecord = MoveRecord | AddressChangeRecord | StuckRecord;

export interface BreakGroupRecord {
  time: string;
  lastTime: string;
  from: string;
  class: 'expected' | 'violation';
  inferred: boolean;
  reason: string;
  sessions: number;
  to: { pod: string; sessions: number }[];
}

/** The report's section on affinity: counts, per pod, every finding and group. */
export interface ReportBreaks {
  /** False: every move was inferred from the run (no cluster watch). */
  watched: boolean;
  settleMs: number;
  stuckAfterMs: number;
  watchLagMs: number;
  totals: BreakCounts;
  pods: PodBreakCounts[];
  findings: BreakRecord[];
  groups: BreakGroupRecord[];
  /** Findings beyond the report's cap, counted but not listed (the counts above are complete). */
  findingsOmitted: number;
}

/** The report's section: the classifier's settings and counts, and the records the run kept. */
export function breaksReportOf(
  classifier: Pick<BreakClassifier, 'watched' | 'settleMs' | 'stuckAfterMs' | 'watchLagMs'>,
  counts: { total: BreakCounts; pods: PodBreakCounts[] },
  kept: { breakFindings: BreakRecord[]; breakGroups: BreakGroupRecord[]; findingsOmitted: number },
): ReportBreaks {
  return {
    watched: classifier.watched,
    settleMs: classifier.settleMs,
    stuckAfterMs: classifier.stuckAfterMs,
    watchLagMs: classifier.watchLagMs,
    totals: counts.total,
    pods: counts.pods,
    findings: kept.breakFindings,
    groups: kept.breakGroups,
    findingsOmitted: kept.findingsOmitted,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const nameOf = (identity: ServingIdentity | undefined): string | null => identity?.label ?? null;

export function breakRecordOf(finding: BreakFinding): BreakRecord {
  const base = { time: iso(finding.time), session: finding.session };
  switch (finding.type) {
    case 'move':
      return {
        type: 'move',
        ...base,
        from: finding.from.label,
        fromNode: finding.from.node ?? null,
        to: finding.to.label,
        toNode: finding.to.node ?? null,
        class: finding.class,
        rule: finding.rule,
        confidence: finding.confidence,
        evidence: finding.evidence,
        silentMs: round3(finding.silentMs),
        stuckMs: finding.stuckMs === undefined ? null : round3(finding.stuckMs),
        cause: finding.cause === undefined ? null : { kind: finding.cause.kind, text: finding.cause.text, time: iso(finding.cause.time) },
        answeredAfter: finding.answeredAfter ?? null,
        decidedAt: iso(finding.decidedAt),
      };
    case 'address-change':
      return {
        type: 'address-change',
        ...base,
        from: finding.from,
        to: finding.to,
        class: finding.class,
        pod: nameOf(finding.pod),
        toPod: nameOf(finding.toPod),
        evidence: finding.evidence,
        silentMs: round3(finding.silentMs),
      };
    case 'stuck':
      return { type: 'stuck', ...base, since: iso(finding.since), pod: nameOf(finding.pod), node: finding.pod?.node ?? null, cause: finding.cause };
    case 'stuck-end':
      return {
        type: 'stuck-end',
        ...base,
        since: iso(finding.since),
        pod: nameOf(finding.pod),
        node: finding.pod?.node ?? null,
        cause: finding.cause,
        durationMs: round3(finding.durationMs),
        recovered: finding.recovered,
        to: nameOf(finding.to),
      };
  }
}

export function breakGroupRecordOf(group: BreakGroup): BreakGroupRecord {
  return {
    time: iso(group.time),
    lastTime: iso(group.lastTime),
    from: group.from.label,
    class: group.class,
    inferred: group.inferred,
    reason: group.reason,
    sessions: group.sessions,
    to: group.to.map((to) => ({ pod: to.pod.label, sessions: to.sessions })),
  };
}
