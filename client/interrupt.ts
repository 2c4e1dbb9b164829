// Ctrl-C and SIGTERM end a run gracefully (summary and report still come out); a second Ctrl-C
// quits at once, for a user who does not want to wait.
export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function interruptOnSignals(
  notice: (line: string) => void,
  signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
  exit: (code: number) => void = (code) => process.exit(code),
): Interrupt {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // 128 + SIGINT, the shell's convention for "killed by Ctrl-C".
      exit(name === 'SIGTERM' ? 143 : 130);
      return;
    }
    notice(`${name === 'SIGINT' ? 'Ctrl-C' : name}: stopping, writing the summary and report (Ctrl-C again quits at once)`);
    controller.abort();
  };
  for (const name of signals) process.on(name, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of signals) process.off(name, handler);
    },
  };
}
