// Whether a run stayed within the user's limits. Pure; the command turns it into an exit code.
import { ExitCode } from '../common/errors.js';

export interface Limits {
  /** Percent of settled requests. */
  maxLoss: number;
  maxPodChanges: number;
  maxAddressChanges: number;
}

export interface VerdictInput {
  lossPercent: number;
  lost: number;
  podChanges: number;
  addressChanges: number;
}

export interface Verdict {
  passed: boolean;
  /** One human sentence per broken limit, e.g. "loss 2.10% is above --max-loss 1%". */
  broken: string[];
}

export function verdictOf(result: VerdictInput, limits: Limits): Verdict {
  const broken: string[] = [];
  if (result.lossPercent > limits.maxLoss) {
    broken.push(`loss ${formatPercent(result.lossPercent)} (${result.lost} lost) is above --max-loss ${limits.maxLoss}%`);
  }
  if (result.podChanges > limits.maxPodChanges) {
    broken.push(`${result.podChanges} pod change${result.podChanges === 1 ? '' : 's'} (--max-pod-changes ${limits.maxPodChanges})`);
  }
  if (result.addressChanges > limits.maxAddressChanges) {
    broken.push(
      `${result.addressChanges} address change${result.addressChanges === 1 ? '' : 's'} (--max-address-changes ${limits.maxAddressChanges})`,
    );
  }
  return { passed: broken.length === 0, broken };
}

export function exitCodeOf(verdict: Verdict): number {
  return verdict.passed ? ExitCode.Ok : ExitCode.Failed;
}

/** 0.123% style: enough digits to see a single loss in a large run. */
export function formatPercent(percent: number): string {
  if (percent === 0) return '0%';
  if (percent < 0.01) return `${percent.toFixed(4)}%`;
  if (percent < 1) return `${percent.toFixed(3)}%`;
  return `${percent.toFixed(2)}%`;
}
