// The stability gate (--until-stable): try a run of the window's length until one try has every
// session answered with no loss, no pod or address change and no lost connection, waiting
// --retry-wait between tries, at most --max-tries. Pure but for the two things passed in: how to
// run a try and how to wait, so a test steps through tries without sleeping.
import type { ClientReport } from './report.js';

/** What kept one report from being stable, one phrase each; empty when it was. */
export function instabilityOf(report: ClientReport): string[] {
  const t = report.totals;
  const problems: string[] = [];
  const silent = report.sessions.filter((s) => s.received === 0).length;
  if (silent > 0) problems.push(`${silent} of ${t.sessions} sessions never answered`);
  if (t.lost > 0) problems.push(`${t.lost} requests lost`);
  if (t.podChanges > 0) problems.push(`${t.podChanges} pod changes`);
  if (t.addressChanges > 0) problems.push(`${t.addressChanges} address changes`);
  const c = report.connections?.totals;
  if (c !== undefined && c.lost > 0) problems.push(`${c.lost} connections lost`);
  if (c !== undefined && c.refused > 0) problems.push(`${c.refused} connection attempts refused or never answered`);
  return problems;
}

export interface GateTry {
  try: number;
  /** Per protocol run of the try (`udp`, `tcp`), what broke; all empty when the try was stable. */
  problems: { protocol: string; problems: string[] }[];
  /** True when Ctrl-C ended the try: the gate stops there. */
  interrupted: boolean;
}

export interface GateOutcome {
  stable: boolean;
  tries: GateTry[];
}

export interface GateOptions {
  maxTries: number;
  retryWaitMs: number;
  /** Runs try `n` (1-based) and says how its reports looked. */
  runTry: (n: number) => Promise<{ reports: { protocol: string; report: ClientReport }[] }>;
  /** Waits between tries; resolves false when the wait was interrupted. */
  wait: (ms: number) => Promise<boolean>;
  /** Each try's outcome as it is known. */
  onTry?: (result: GateTry, maxTries: number) => void;
}

export const isStable = (t: GateTry): boolean => !t.interrupted && t.problems.every((p) => p.problems.length === 0);

export async function runUntilStable(options: GateOptions): Promise<GateOutcome> {
  const tries: GateTry[] = [];
  for (let n = 1; n <= options.maxTries; n++) {
    const { reports } = await options.runTry(n);
    const result: GateTry = {
      try: n,
      problems: reports.map(({ protocol, report }) => ({ protocol, problems: instabilityOf(report) })),
      interrupted: reports.some(({ report }) => report.interrupted),
    };
    tries.push(result);
    options.onTry?.(result, options.maxTries);
    if (isStable(result)) return { stable: true, tries };
    if (result.interrupted) break;
    if (n < options.maxTries && !(await options.wait(options.retryWaitMs))) break;
  }
  return { stable: false, tries };
}

/** `try 2/10: udp: 3 requests lost; tcp: 1 connections lost`, or `try 1/10: stable`. */
export function gateTryLine(result: GateTry, maxTries: number): string {
  const head = `try ${result.try}/${maxTries}`;
  if (result.interrupted) return `${head}: interrupted`;
  const broken = result.problems.filter((p) => p.problems.length > 0);
  if (broken.length === 0) return `${head}: stable`;
  return `${head}: ${broken.map((p) => `${p.protocol}: ${p.problems.join(', ')}`).join('; ')}`;
}

/** The gate's last lines: STABLE after how many tries, or NOT STABLE and each try's problems. */
export function gateOutcomeLines(outcome: GateOutcome, windowText: string, maxTries: number): string[] {
  const n = outcome.tries.length;
  if (outcome.stable) return [`STABLE: every session answered without loss or change for ${windowText}, after ${n} ${n === 1 ? 'try' : 'tries'}`];
  return [`NOT STABLE after ${n} ${n === 1 ? 'try' : 'tries'} of ${maxTries}:`, ...outcome.tries.map((t) => `  ${gateTryLine(t, maxTries)}`)];
}
