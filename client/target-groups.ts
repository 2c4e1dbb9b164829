// A run over several targets at once: the two ingress addresses of a dual-stack Service (one per
// family), or any two --target. Sessions are dealt round robin, so each target gets every other
// session and the same ramp; a session keeps its target for the whole run, since a session that
// moved between families would be a new flow with new conntrack entries, not a break. The figures
// per target are the same pure totals as the whole run's, over that target's sessions.
import type { Totals } from './stats.js';
import { totalsOf, type SessionFigures } from './stats.js';
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
