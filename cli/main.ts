// The one command-line program, as a function: argv and a CommandIo in, an exit code out, so the
// whole CLI runs in-process in tests. Subcommands live beside what they run; this file wires them
// together and is the only place an error becomes a line and an exit code (cli/failure.ts).
import { Command } from 'commander';
import type { CommandIo } from '../common/command-io.js';
import { ExitCode } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { registerServerCommand } from '../server/command.js';
import { registerClientCommand } from '../client/command.js';
import { registerDemoCommand } from '../demo/command.js';
import { registerKubeCommands } from '../kube/commands.js';
import { registerReportCommands } from '../report/commands.js';
import { failureOf } from './failure.js';

/** Runs one command line (argv as process.argv gives it: node, script, arguments). */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const commandIo: CommandIo = {
    ...io,
    setExitCode: (code) => {
      exitCode = code;
      io.setExitCode(code);
    },
  };
  const program = new Command()
    .name('affinity-tester')
    .description('Tells whether UDP traffic keeps its session affinity while a Kubernetes cluster changes.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      outputError: (text, write) => write(text.startsWith('error:') ? `affinity-tester: ${text}` : text),
    });

  registerServerCommand(program, commandIo);
  registerClientCommand(program, commandIo);
  registerDemoCommand(program, commandIo);
  registerKubeCommands(program, commandIo);
  registerReportCommands(program, commandIo);

  try {
    await program.parseAsync(argv);
  } catch (error) {
    const failure = failureOf(error, Boolean(io.env.DEBUG));
    if (failure.text !== '') io.err(failure.text);
    return failure.code;
  }
  return exitCode;
}
