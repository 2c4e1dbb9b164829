// Each session owns a UDP socket, so a run needs one file descriptor per session plus a margin
// for the event log, the report, stdio and the runtime's own. Checked before any socket opens,
// so a too-low limit is a clear set-up error instead of EMFILE half way through the ramp.
// Node raises its own soft limit to the hard limit at start-up, so in practice the hard limit is
// the one that counts; we read what this process really has.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { SetupError } from '../common/errors.js';

export const DESCRIPTOR_MARGIN = 64;

export interface DescriptorLimit {
  soft: number;
  hard: number;
}

/** Reads "Max open files" from /proc/self/limits text; undefined when absent. "unlimited" is Infinity. */
export function parseProcLimits(text: string): DescriptorLimit | undefined {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!match) return undefined;
  const value = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/** The soft and hard RLIMIT_NOFILE of this process, or undefined when it cannot be read. */
export function descriptorLimit(): DescriptorLimit | undefined {
  try {
    return parseProcLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    // Not Linux: a shell started by us inherits our limits.
    try {
      const soft = execFileSync('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
      const value = (s: string | undefined): number => (s === 'unlimited' ? Infinity : Number(s));
      const limit = { soft: value(soft[0]), hard: value(soft[1]) };
      return Number.isFinite(limit.soft) || limit.soft === Infinity ? limit : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Throws SetupError('descriptor-limit'), saying how to fix it, when `sessions` sockets would not fit the limit. */
export function checkDescriptors(sessions: number, limit: DescriptorLimit | undefined = descriptorLimit()): void {
  if (limit === undefined) return;
  const needed = sessions + DESCRIPTOR_MARGIN;
  if (needed <= limit.soft) return;
  const raise =
    needed <= limit.hard
      ? `raise it with "ulimit -n ${needed}" in this shell (the hard limit is ${limit.hard})`
      : `the hard limit is ${limit.hard}: raise it (for example with "ulimit -Hn ${needed}" as root, LimitNOFILE= in systemd, or --ulimit nofile=${needed} for docker)`;
  throw new SetupError(
    'descriptor-limit',
    `${sessions} sessions need about ${needed} open files (one UDP socket each) but the limit is ${limit.soft}; ${raise}, or use fewer --sessions`,
  );
}
