// Whether a run kept affinity within the user's limits. Violations (a move off a pod that was
// still serving), stuck sessions and loss decide by default; expected moves (the pod had left the
// Service) are reported and never fail a run. Pod and address changes of any kind remain as
// stricter limits for those who want them, off by default. Pure; the command turns it into an
// exit code.
import { ExitCode } from '../common/errors.js';
import { formatPercent, plural } from '../common/format.js';
import type { BreakCounts } from './break-classifier.js';
import { lossPercent, type Totals } from './stats.js';

export { formatPercent };

export const DEFAULT_MAX_VIOLATIONS = 0;
export const DEFAULT_MAX_STUCK = 0;

export interface AffinityLimits {
  /** Percent of settled requests (--max-loss). */
  maxLoss: number;
  /** --max-violations, default DEFAULT_MAX_VIOLATIONS. */
  maxViolations: number;
  /** --max-stuck, default DEFAULT_MAX_STUCK. */
  maxStuck: number;
  /** --max-pod-changes, expected or not; undefined: no limit. */
  maxPodChanges?: number;
  /** --max-address-changes; undefined: no limit. */
  maxAddressChanges?: number;
}

export interface AffinityVerdictInput {
  lossPercent: number;
  lost: number;
  violations: number;
  /** Stuck episodes. */
  stuck: number;
  podChanges: number;
  addressChanges: number;
}

export interface Verdict {
  passed: boolean;
  /** One human sentence per broken limit, e.g. "loss 2.10% is above --max-loss 1%". */
  broken: string[];
}

/** The verdict of a whole run: its totals and its classified breaks against the limits. */
export function runVerdictOf(totals: Totals, breaks: Pick<BreakCounts, 'violations' | 'stuck'>, limits: AffinityLimits): Verdict {
  return affinityVerdictOf(
    {
      lossPercent: lossPercent(totals.lost, totals.sent, totals.pending),
      lost: totals.lost,
      violations: breaks.violations,
      stuck: breaks.stuck,
      podChanges: totals.podChanges,
      addressChanges: totals.addressChanges,
    },
    limits,
  );
}

export function affinityVerdictOf(result: AffinityVerdictInput, limits: AffinityLimits): Verdict {
  const broken: string[] = [];
  if (result.violations > limits.maxViolations) {
    broken.push(`${plural(result.violations, 'violation')}: sessions moved off a pod still in the Service (--max-violations ${limits.maxViolations})`);
  }
  if (result.stuck > limits.maxStuck) {
    broken.push(`${plural(result.stuck, 'stuck session')}: unanswered while the Service answered others (--max-stuck ${limits.maxStuck})`);
  }
  if (result.lossPercent > limits.maxLoss) {
    broken.push(`loss ${formatPercent(result.lossPercent)} (${result.lost} lost) is above --max-loss ${limits.maxLoss}%`);
  }
  if (limits.maxPodChanges !== undefined && result.podChanges > limits.maxPodChanges) {
    broken.push(`${plural(result.podChanges, 'pod change')} (--max-pod-changes ${limits.maxPodChanges})`);
  }
  if (limits.maxAddressChanges !== undefined && result.addressChanges > limits.maxAddressChanges) {
    broken.push(`${plural(result.addressChanges, 'address change')} (--max-address-changes ${limits.maxAddressChanges})`);
  }
  return { passed: broken.length === 0, broken };
}

/** `--max-loss 1%, --max-violations 0, --max-stuck 0`, plus the optional limits that are set: for the PASS line. */
export function limitsText(limits: AffinityLimits): string {
  const parts = [`--max-loss ${limits.maxLoss}%`, `--max-violations ${limits.maxViolations}`, `--max-stuck ${limits.maxStuck}`];
  if (limits.maxPodChanges !== undefined) parts.push(`--max-pod-changes ${limits.maxPodChanges}`);
  if (limits.maxAddressChanges !== undefined) parts.push(`--max-address-changes ${limits.maxAddressChanges}`);
  return parts.join(', ');
}

export function exitCodeOf(verdict: Verdict): number {
  return verdict.passed ? ExitCode.Ok : ExitCode.Failed;
}
