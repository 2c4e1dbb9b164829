// What a subcommand gets from the command line instead of reaching for `process`: where its
// lines go, the environment, whether stdout is a terminal, and where its exit code goes. The CLI
// passes the real process's; tests pass fakes and run a command in-process.

export interface CommandIo {
  /** Writes to standard output (text as given: add the newline). */
  out(text: string): void;
  /** Writes to standard error (text as given: add the newline). */
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Standard output is a terminal: colour (unless NO_COLOR) and live lines are wanted. */
  isTTY: boolean;
  /** Standard error is a terminal: progress lines may replace each other. */
  errIsTTY?: boolean;
  /** Columns of the terminal, when it is one (read again after a resize: it follows it). */
  columns?: number;
  /** Calls `listener` when the terminal is resized; returns what stops it. */
  onResize?: (listener: () => void) => () => void;
  /** A subcommand's action reports its exit code here; the last call wins. */
  setExitCode(code: number): void;
}
