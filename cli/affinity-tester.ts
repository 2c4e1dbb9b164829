#!/usr/bin/env node
// The one command-line program. Subcommands live beside what they run; this file only wires
// them together and turns every error into one line and an exit code (see common/cli-error.ts).
import { Command, CommanderError } from 'commander';
import { ExitCode, SetupError, UsageError } from '../common/errors.js';
import type { CommandIo } from '../common/command-io.js';
import { VERSION } from '../common/version.js';
import { registerServerCommand } from '../server/command.js';
import { registerClientCommand } from '../client/command.js';
import { registerDemoCommand } from '../client/demo/command.js';
import { registerKubeCommands } from '../kube/commands.js';

const processIo: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns,
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const program = new Command()
    .name('affinity-tester')
    .description('Tells whether UDP traffic keeps its session affinity while a Kubernetes cluster changes.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.startsWith('error:') ? `affinity-tester: ${text}` : text) });

  registerServerCommand(program, io);
  registerClientCommand(program, io);
  registerDemoCommand(program, io);
  registerKubeCommands(program, io);

  try {
    // Each subcommand's action sets process.exitCode itself when it finishes.
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end this way too, with exit code 0.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (error instanceof UsageError || error instanceof SetupError) {
      process.stderr.write(`affinity-tester: ${error.message}\n`);
      return ExitCode.Usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`affinity-tester: ${message}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    return ExitCode.Failed;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`affinity-tester: ${String(error)}\n`);
    process.exitCode = ExitCode.Failed;
  },
);
