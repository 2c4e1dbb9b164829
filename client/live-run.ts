// What the live views (the status line, /metrics) read of a running client: the same sessions,
// totals and RTT histogram the report is built from, never a count of their own. The one thing
// kept here is the time of the last break, taken from the sessions' own events.
import type { Clock } from '../common/clock.js';
import type { BreakCounts } from './break-classifier.js';
import type { ClientEvents, TypedEmitter } from './events.js';
import type { RttHistogram } from './rtt-histogram.js';
import { podDistribution, totalsOf, type PodShare, type SessionFigures, type Totals } from './stats.js';

/** A session unanswered this long while others are answered counts as stuck (break-classifier's default). */
export const LIVE_STUCK_AFTER_MS = 5000;

/** What a live view is handed once the run's sockets are open (RunningClient has all of it). */
export interface LiveSource {
  readonly sessions: readonly SessionFigures[];
  readonly rtt: RttHistogram;
  readonly events: TypedEmitter<ClientEvents>;
  /** The affinity verdict's counts so far (break-classifier.ts); absent in runs without it. */
  readonly breaks?: () => BreakCounts;
}

export interface LiveFigures {
  now: number;
  totals: Totals;
  pods: PodShare[];
  stuck: number;
  /** The last pod or address change; undefined before the first. */
  lastBreakAt: number | undefined;
  /** The breaks by class so far, where the run classifies them. */
  breaks?: BreakCounts;
}

/**
 * Sessions unanswered for `stuckAfterMs` while another session was answered within it: the
 * break classifier's stuck rule, counted at one moment for the gauge and the status line.
 */
export function stuckSessions(sessions: readonly SessionFigures[], now: number, stuckAfterMs = LIVE_STUCK_AFTER_MS): number {
  let stuck = 0;
  let answeredRecently = false;
  for (const { counters } of sessions) {
    const last = counters.lastReplyAt;
    if (last === undefined) continue;
    if (now - last >= stuckAfterMs) stuck++;
    else answeredRecently = true;
  }
  return answeredRecently ? stuck : 0;
}

export class LiveRun {
  readonly startedAt: number;
  private lastBreakAt: number | undefined;
  private cached: LiveFigures | undefined;

  constructor(
    readonly source: LiveSource,
    private readonly clock: Clock,
  ) {
    this.startedAt = clock();
    source.events.on('session', (event) => {
      if (event.type === 'pod-change' || event.type === 'address-change') this.lastBreakAt = event.time;
    });
  }

  /**
   * The figures now. One scrape reads them for every metric in the same turn of the event loop,
   * so they are computed once per turn and every series of a scrape agrees with the others.
   */
  figures(): LiveFigures {
    if (this.cached === undefined) {
      const now = this.clock();
      const { sessions } = this.source;
      const breaks = this.source.breaks?.();
      this.cached = {
        now,
        totals: totalsOf(sessions),
        pods: podDistribution(sessions),
        // The classifier's own figure when there is one, so the gauge agrees with the report.
        stuck: breaks?.stuckNow ?? stuckSessions(sessions, now),
        lastBreakAt: this.lastBreakAt,
        ...(breaks ? { breaks } : {}),
      };
      setImmediate(() => {
        this.cached = undefined;
      });
    }
    return this.cached;
  }
}
