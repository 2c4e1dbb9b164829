// The stability gate wired to real runs: each try is a run (one protocol or both) of the ramp plus
// the window; between tries a wait that Ctrl-C cuts short. Returns the exit code: 0 once a try was
// stable, 1 when none was.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChalkInstance } from 'chalk';
import { ExitCode } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';
import type { ProtocolChoice } from './protocol-options.js';
import { runProtocols } from './protocol-runs.js';
import type { ClientRunOptions } from './run.js';
import { gateOutcomeLines, gateTryLine, runUntilStable } from './stability-gate.js';

export interface GateRunOptions {
  protocol: ProtocolChoice;
  windowMs: number;
  maxTries: number;
  retryWaitMs: number;
  run: ClientRunOptions;
  style: ChalkInstance;
}

export async function runGate(options: GateRunOptions): Promise<number> {
  const { run, style } = options;
  const windowText = formatDuration(options.windowMs);
  const outcome = await runUntilStable({
    maxTries: options.maxTries,
    retryWaitMs: options.retryWaitMs,
    runTry: async (n) => {
      run.write(style.bold(`stability gate: try ${n}/${options.maxTries}, ${windowText} without loss or change`));
      const runs = await runProtocols(options.protocol, { ...run, durationMs: run.rampMs + options.windowMs }, style);
      return { reports: runs.map((r) => ({ protocol: r.protocol, report: r.result.report })) };
    },
    wait: async (ms) => {
      run.write(style.dim(`stability gate: next try in ${formatDuration(ms)}`));
      try {
        await sleep(ms, undefined, { signal: run.signal });
        return true;
      } catch {
        return false;
      }
    },
    onTry: (result, maxTries) => run.write(style.bold(`stability gate: ${gateTryLine(result, maxTries)}`)),
  });
  const paint = outcome.stable ? style.green : style.red;
  for (const line of gateOutcomeLines(outcome, windowText, options.maxTries)) run.write(paint(line));
  return outcome.stable ? ExitCode.Ok : ExitCode.Failed;
}
