// The human lines for session and cluster events, pure: record in, text out. Colour comes from
// the style the command chose (none off a TTY or with NO_COLOR); the NDJSON log gets the same
// text without colour.
import type { ChalkInstance } from 'chalk';
import type { ClusterEvent } from '../common/cluster-events.js';
import { formatDuration } from '../common/duration.js';
import type { SessionEvent } from './events.js';
import { describeIdentity } from './serving-identity.js';

/** `14:03:07.512`, UTC, the clock `kubectl get events` shows. */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 23);
}

/** One line for a session event; pod and address changes are red, loss bursts yellow. */
export function sessionEventLine(event: SessionEvent, style: ChalkInstance): string {
  const head = `${clockTime(event.time)} session ${event.session}`;
  switch (event.type) {
    case 'established':
      return `${head} established: ${describeIdentity(event.identity)}${event.mapped === undefined ? '' : `, seen as ${event.mapped}`}, rtt ${formatMs(event.rttMs)}`;
    case 'pod-change':
      return style.red(
        `${head} POD CHANGE ${describeIdentity(event.from)} -> ${describeIdentity(event.to)} (silent ${formatDuration(event.silentMs)})`,
      );
    case 'address-change':
      return style.red(`${head} ADDRESS CHANGE ${event.from} -> ${event.to} (silent ${formatDuration(event.silentMs)})`);
    case 'loss-burst':
      return style.yellow(`${head} LOSS BURST: ${event.consecutive} requests in a row unanswered (silent ${formatDuration(event.silentMs)})`);
  }
}

/** A cluster event as it arrives (dim: context, not a finding). */
export function clusterEventLine(event: ClusterEvent, style: ChalkInstance): string {
  return style.dim(`${clockTime(event.time)} cluster ${event.text}`);
}

/** `  ↳ endpoint 10.1.2.3 (pod-b) removed 0.4s before`, under a change or loss line. */
export function attributionLine(event: ClusterEvent, at: number, style: ChalkInstance): string {
  return style.dim(`  ↳ ${event.text} ${formatDuration(at - event.time)} before`);
}

/** An RTT or lag for people: sub-millisecond precision where it matters (0.42ms, 12.3ms, 2.40s). */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  return formatDuration(ms);
}
