// Waiting for the cluster to get somewhere (a rollout complete, a LoadBalancer address): try, and
// if not there yet, say so and try again after a pause, until a deadline. Time comes from a Clock
// and the pause from `sleep`, so a test can run the whole wait without waiting.
import { setTimeout as timersSleep } from 'node:timers/promises';
import { monotonicClock, type Clock } from '../common/clock.js';

export interface PollOptions<T> {
  /** One try: a value ends the wait, undefined means "not yet". */
  attempt: () => Promise<T | undefined>;
  timeoutMs: number;
  /** The pause between two tries (shortened so as not to overshoot the deadline). */
  intervalMs: number;
  /** Called after each "not yet" that is followed by a pause, with the time waited so far. */
  onWaiting?: (elapsedMs: number) => void;
  /** The error thrown when the deadline has passed. */
  timedOut: () => Error;
  /** Stops the wait early; then `stopped()` is thrown. */
  signal?: AbortSignal;
  stopped?: () => Error;
  clock?: Clock;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const realSleep = (ms: number, signal?: AbortSignal): Promise<void> => timersSleep(ms, undefined, signal ? { signal } : undefined);

export async function pollUntil<T>(options: PollOptions<T>): Promise<T> {
  const clock = options.clock ?? monotonicClock;
  const sleep = options.sleep ?? realSleep;
  const started = clock();
  const deadline = started + options.timeoutMs;
  for (;;) {
    const value = await options.attempt();
    if (value !== undefined) return value;
    const now = clock();
    if (now >= deadline) throw options.timedOut();
    options.onWaiting?.(now - started);
    try {
      await sleep(Math.max(1, Math.min(options.intervalMs, deadline - now)), options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.stopped?.() ?? error;
      throw error;
    }
  }
}
