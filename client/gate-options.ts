// The stability gate's flags: --until-stable WINDOW, --max-tries, --retry-wait, each with an
// environment variable.
import { Option, type Command } from 'commander';
import { durationOption, integerOption } from '../common/options.js';

export interface GateFlags {
  untilStable?: number;
  maxTries: number;
  retryWait: number;
}

export function addGateOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--until-stable <window>', 'a gate: run tries of this length until one has every session answered without loss or change; exit 0 then, 1 after --max-tries (replaces --duration)')
        .env('UNTIL_STABLE')
        .argParser(durationOption),
    )
    .addOption(new Option('--max-tries <n>', 'with --until-stable: tries before giving up').env('MAX_TRIES').default(10).argParser(integerOption(1)))
    .addOption(
      new Option('--retry-wait <duration>', 'with --until-stable: wait between two tries').env('RETRY_WAIT').default(15_000, '15s').argParser(durationOption),
    );
}
