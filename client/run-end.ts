// When a run ends: at its planned duration or on Ctrl-C; then, at the planned end only, once
// every reply in flight has come back or their timeout has passed, whichever is first. Event
// driven: the receive path reports each answer, so nothing polls.

/** Resolves true when `signal` aborts, false after `ms` (never, when undefined) or when `done()` is called. */
function wait(ms: number | undefined, signal: AbortSignal | undefined, onDone?: (done: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    let timer: NodeJS.Timeout | undefined;
    const finish = (interrupted: boolean): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(interrupted);
    };
    const onAbort = (): void => finish(true);
    if (ms !== undefined) timer = setTimeout(() => finish(false), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    onDone?.(() => finish(false));
  });
}

/** What decides a run's end: --duration (undefined: until Ctrl-C), --timeout, and Ctrl-C. */
export interface RunPlan {
  durationMs?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What the run does between its planned end and the wait for the replies in flight. */
export interface RunStop {
  /** No more requests (the scheduler stops). */
  stop(): void;
  /** Requests sent and still within their timeout. */
  inFlight(): number;
  /** Told how many replies the drain waits for, before it waits. */
  draining(inFlight: number): void;
}

export class RunEnd {
  private awaited = 0;
  private allAnswered: (() => void) | undefined;

  /**
   * A run's whole wait: until its planned end, then stop sending and give the replies in flight
   * their timeout to arrive. On Ctrl-C it stops at once and leaves them pending (not lost).
   * True when the signal aborted.
   */
  async wait(plan: RunPlan, run: RunStop): Promise<boolean> {
    const interrupted = await this.until(plan.durationMs, plan.signal);
    run.stop();
    if (interrupted) return true;
    const inFlight = run.inFlight();
    run.draining(inFlight);
    return this.untilAnswered(inFlight, plan.timeoutMs, plan.signal);
  }

  /** The run's planned end; true when `signal` aborted first. */
  until(durationMs: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    return wait(durationMs, signal);
  }

  /** Waits for `inFlight` answers, at most `timeoutMs`; true when `signal` aborted first. */
  async untilAnswered(inFlight: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (inFlight === 0) return signal?.aborted ?? false;
    this.awaited = inFlight;
    const interrupted = await wait(timeoutMs, signal, (done) => (this.allAnswered = done));
    this.allAnswered = undefined;
    return interrupted;
  }

  /** A pending request was answered (the receive path calls this for every one). */
  answered(): void {
    if (this.allAnswered !== undefined && --this.awaited === 0) this.allAnswered();
  }
}
