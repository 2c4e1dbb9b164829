// Errors deep code throws, by kind. Only the command line (cli/) turns them into one line and an
// exit code, never a stack trace.

/** Exit codes shared by every subcommand. */
export const ExitCode = {
  Ok: 0,
  /** The run finished but broke a limit (client), or failed at run time. */
  Failed: 1,
  /** Bad flags, bad configuration, or a set-up failure (port in use, unresolvable target). */
  Usage: 2,
} as const;

/** A problem with what the user asked for (a flag's value, flags that do not fit together). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Why a run could not start, as a kind a caller can branch on (and a test can assert). */
export type SetupErrorKind =
  | 'target-unresolved'
  | 'descriptor-limit'
  | 'socket-open'
  | 'output-unwritable'
  | 'port-in-use'
  | 'discovery';

/** The environment does not let the run start: the message says what to do about it. */
export class SetupError extends Error {
  override name = 'SetupError';
  constructor(
    readonly kind: SetupErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A socket that could not be bound (UDP, TCP, the HTTP side port); `code` is the system error
 * code (EADDRINUSE...). The caller turns it into a SetupError naming its flag.
 */
export class BindError extends Error {
  override name = 'BindError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}
