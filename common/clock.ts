// The one clock of a run. Sessions, stats, the scheduler and the cluster watch all read time
// through a Clock, so every time on the run's timeline comes from the same source and a test can
// step it by hand.
import { performance } from 'node:perf_hooks';

/** Epoch milliseconds (with sub-millisecond precision). */
export type Clock = () => number;

/**
 * The monotonic clock anchored once at process start: epoch milliseconds that never step when
 * the wall clock does (NTP), so "event X happened N ms before this break" stays right.
 */
export const monotonicClock: Clock = () => performance.timeOrigin + performance.now();
