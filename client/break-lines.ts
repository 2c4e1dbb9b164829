// The human lines for classified breaks, pure: finding in, text out, in the style of
// event-lines.ts. Violations and stuck sessions are red (they fail a run by default); expected
// moves and recoveries are yellow (worth reading, not a failure). The NDJSON log gets the same
// text without colour.
import type { ChalkInstance } from 'chalk';
import { formatDuration } from '../common/duration.js';
import { plural } from '../common/format.js';
import { isInferred, type BreakCounts, type BreakFinding, type MoveClass, type PodBreakCounts } from './break-classifier.js';
import type { BreakGroup } from './break-groups.js';
import { clockTime } from './event-lines.js';
import { describeIdentity } from './serving-identity.js';

/** "expected", "violation, inferred". */
function classLabel(moveClass: MoveClass, inferred: boolean): string {
  return inferred ? `${moveClass}, inferred` : moveClass;
}

/** One line per finding, stamped with when it happened (a move may be decided seconds later). */
export function breakFindingLine(finding: BreakFinding, style: ChalkInstance): string {
  const head = `${clockTime(finding.time)} session ${finding.session}`;
  switch (finding.type) {
    case 'move': {
      const stuck = finding.stuckMs === undefined ? '' : `; stuck ${formatDuration(finding.stuckMs)}`;
      const line = `${head} POD CHANGE ${describeIdentity(finding.from)} -> ${describeIdentity(finding.to)} (${classLabel(finding.class, isInferred(finding.rule))}: ${finding.evidence}; silent ${formatDuration(finding.silentMs)}${stuck})`;
      return finding.class === 'violation' ? style.red(line) : style.yellow(line);
    }
    case 'address-change':
      return style.red(`${head} ADDRESS CHANGE ${finding.from} -> ${finding.to} (${finding.evidence}; silent ${formatDuration(finding.silentMs)})`);
    case 'stuck':
      return style.red(
        `${head} STUCK on ${finding.pod === undefined ? 'no pod yet' : describeIdentity(finding.pod)}: unanswered for ${formatDuration(finding.time - finding.since)} since ${clockTime(finding.since)} while the Service answers other sessions; ${finding.cause}`,
      );
    case 'stuck-end': {
      const lasted = formatDuration(finding.durationMs);
      if (!finding.recovered) {
        return style.red(`${head} still STUCK at the end, for ${lasted} since ${clockTime(finding.since)}; ${finding.cause}`);
      }
      // A recovered session was answered by someone: `to` is set.
      const to = finding.to!;
      const where = finding.pod === undefined ? 'for the first time' : to === finding.pod ? 'again' : `(moved from ${finding.pod.label})`;
      return style.yellow(`${head} RECOVERED after ${lasted} stuck: answered by ${describeIdentity(to)} ${where}`);
    }
  }
}

/** `120 sessions left pod-b (removed 400ms before): pod-a 40, pod-c 80; expected`. */
export function breakGroupLine(group: BreakGroup, style: ChalkInstance): string {
  const destinations = group.to.map((to) => `${to.pod.label} ${to.sessions}`).join(', ');
  const line = `${clockTime(group.time)} ${plural(group.sessions, 'session')} left ${group.from.label} (${group.reason}): ${destinations}; ${classLabel(group.class, group.inferred)}`;
  return group.class === 'violation' ? style.red(line) : style.yellow(line);
}

/** `pod-b (node-1): 120 expected, 3 violations, 5 address changes, 2 stuck; ...`: pods with a break. */
export function podBreaksText(pods: readonly PodBreakCounts[]): string {
  const broken = pods.filter((p) => p.expected + p.violations + p.addressChanges + p.stuck > 0);
  if (broken.length === 0) return 'none';
  return broken
    .map(
      (p) =>
        `${p.pod}${p.node === undefined ? '' : ` (${p.node})`}: ${p.expected} expected, ${plural(p.violations, 'violation')}, ${plural(p.addressChanges, 'address change')}, ${p.stuck} stuck`,
    )
    .join('; ');
}

/** The summary's break lines, from the same counts the report stores. */
export function breakSummaryLines(total: BreakCounts, pods: readonly PodBreakCounts[], watched: boolean): string[] {
  const moves = total.expected + total.violations;
  let how = '';
  if (moves > 0 && !watched) how = ' (inferred from the run: no cluster watch)';
  else if (total.inferred > 0) how = ` (${total.inferred} inferred: pods the watch cannot name)`;
  const samePod = total.samePodAddressChanges;
  return [
    `  moves           ${total.expected} expected, ${plural(total.violations, 'violation')}${how}`,
    `  address changes ${total.addressChanges}${total.addressChanges === 0 ? '' : ` (${samePod} on the same pod: NAT rebinding; ${total.addressChanges - samePod} with a pod change)`}`,
    `  stuck           ${total.stuck === 0 ? 'none' : `${plural(total.stuck, 'session')}, longest ${formatDuration(total.longestStuckMs)}`}`,
    `  breaks by pod   ${podBreaksText(pods)}`,
  ];
}
