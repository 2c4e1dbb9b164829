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
    get columns() {
      return process.stdout.columns || undefined;
    },
    // Node re-reads the size on SIGWINCH and emits 'resize' on a TTY stdout.
    onResize: (listener) => {
      process.stdout.on('resize', listener);
      return () => process.stdout.off('resize', listener);
    },
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}
