// The real process as a CommandIo: the one place the CLI's subcommands reach stdout, stderr, the
// environment and the exit code.
import type { CommandIo } from '../common/command-io.js';

export function processIo(): CommandIo {
  // If stdout goes away (`| head`, a closed terminal), a command carries on (a client run still
  // writes its report) instead of dying of EPIPE; what it would have printed is dropped.
  let stdoutOpen = true;
  process.stdout.on('error', () => {
    stdoutOpen = false;
  });
  return {
    out: (text) => {
      if (stdoutOpen) process.stdout.write(text);
    },
    err: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    errIsTTY: process.stderr.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}
