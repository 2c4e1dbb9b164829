// Errors the command line turns into one line and an exit code, never a stack trace.

/** Exit codes shared by every subcommand. */
export const ExitCode = {
  Ok: 0,
  /** The run finished but broke a limit (client), or failed at run time. */
  Failed: 1,
  /** Bad flags, bad configuration, or a set-up failure (port in use, unresolvable target). */
  Usage: 2,
} as const;

/** A problem with what the user asked for: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
