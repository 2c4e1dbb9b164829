// A run over several targets at once: the two ingress addresses of a dual-stack Service (one per
// family), or any two --target. Sessions are dealt round robin, so each target gets every other
// session and the same ramp; a session keeps its target for the whole run, since a session that
// moved between families would be a new flow with new conntrack entries, not a break. The figures
// per target are the same pure totals as the whole run's, over that target's sessions.
import type { ReportTarget } from './report.js';
import { RttHistogram } from './rtt-histogram.js';
import { rttSummary, totalsOf, type RttSummary, type SessionFigures, type Totals } from './stats.js';
import type { ResolvedTarget } from './target.js';

/** Session i (0-based) goes to target i mod the number of targets. */
export function targetIndexOf(sessionIndex: number, targetCount: number): number {
  return sessionIndex % targetCount;
}

/** `IPv4 203.0.113.1:3478`: the family first, since a dual-stack run compares the two. */
export function targetLabel(target: Pick<ResolvedTarget, 'family' | 'endpoint'>): string {
  return `IPv${target.family} ${target.endpoint}`;
}

/** The items of each target, in order: items[i] belongs to target i mod `targetCount`. */
export function splitByTarget<T>(items: readonly T[], targetCount: number): T[][] {
  const groups = Array.from({ length: targetCount }, (): T[] => []);
  items.forEach((item, i) => groups[targetIndexOf(i, targetCount)]!.push(item));
  return groups;
}

/** The totals of each target's sessions. */
export function totalsByTarget(sessions: readonly SessionFigures[], targetCount: number): Totals[] {
  return splitByTarget(sessions, targetCount).map((group) => totalsOf(group));
}

/**
 * A run over several targets (dual stack): each target's RTTs and running totals apart. A run over
 * one target keeps none, so its output and report stay exactly as before.
 */
export class TargetFigures {
  readonly #rtt: RttHistogram[];

  constructor(
    private readonly targets: readonly ResolvedTarget[],
    private readonly sessions: readonly SessionFigures[],
  ) {
    this.#rtt = targets.length > 1 ? targets.map(() => new RttHistogram()) : [];
  }

  /** One answered reply of session `index` (hot path: a histogram bucket, nothing for one target). */
  rtt(index: number, ms: number): void {
    this.#rtt[targetIndexOf(index, this.targets.length)]?.record(ms);
  }

  /** For the stats line: each target's running totals, or undefined for a run over one target. */
  stats(): { label: string; totals: Totals }[] | undefined {
    if (this.#rtt.length === 0) return undefined;
    return totalsByTarget(this.sessions, this.targets.length).map((totals, i) => ({ label: targetLabel(this.targets[i]!), totals }));
  }

  /** For the report: each target with its totals and RTT, or undefined for a run over one target. */
  report(): { target: Omit<ReportTarget, 'totals' | 'pendingAtStop'>; totals: Totals; rtt: RttSummary }[] | undefined {
    if (this.#rtt.length === 0) return undefined;
    const totals = totalsByTarget(this.sessions, this.targets.length);
    return this.targets.map((t, i) => ({
      target: { host: t.host, address: t.address, port: t.port, family: t.family, endpoint: t.endpoint },
      totals: totals[i]!,
      rtt: rttSummary(this.#rtt[i]!),
    }));
  }
}
