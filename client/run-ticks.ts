// The run's routine work on timers, beside its lifecycle (run.ts): every --stats-interval the
// stats line of the period that just ended, and every BREAK_TICK_MS the classifier's look for
// stuck sessions and the output's groups of moves that have stopped. Each tick takes `now`, so a
// test calls it with its own time; start() only puts the two on timers.
import type { Clock } from '../common/clock.js';
import type { BreakClassifier } from './break-classifier.js';
import type { RunOutput } from './run-output.js';
import type { RunTransport } from './run-transport.js';
import type { Scheduler } from './scheduler.js';
import type { Session } from './session.js';
import { podDistribution, totalsOf, type PeriodTracker } from './stats.js';
import type { TargetFigures } from './target-groups.js';

/**
 * How often stuck sessions are looked for and waiting moves decided: a STUCK line comes within a
 * quarter of a second of the crossing, well below the 1 s window of the grouped lines.
 */
export const BREAK_TICK_MS = 250;

/** The parts of a run the ticks read and tell. */
export interface RunTickParts {
  sessions: readonly Session[];
  tracker: PeriodTracker;
  perTarget: Pick<TargetFigures, 'stats'>;
  classifier: Pick<BreakClassifier, 'counts' | 'tick'>;
  output: Pick<RunOutput, 'stats' | 'breakTick' | 'connectionStep'>;
  transport: Pick<RunTransport, 'errors' | 'connectionStep'>;
  scheduler: Pick<Scheduler, 'lag'>;
}

export class RunTicks {
  #timers: NodeJS.Timeout[] = [];

  constructor(private readonly run: RunTickParts) {}

  /** The stats line of the period that ends `now`; over TCP, the connections step after it. */
  stats(now: number): void {
    const { sessions, tracker, perTarget, classifier, output, transport, scheduler } = this.run;
    for (const session of sessions) session.expire(now);
    const totals = totalsOf(sessions);
    const targets = perTarget.stats();
    output.stats(
      { time: now, totals, ...tracker.next(totals), pods: podDistribution(sessions), breaks: classifier.counts().total, ...(targets ? { targets } : {}) },
      { socketErrors: transport.errors, schedulingLagP99Ms: scheduler.lag.percentile(99) ?? null },
    );
    const step = transport.connectionStep(now);
    if (step !== undefined) output.connectionStep(step);
  }

  /** Stuck sessions found and stopped groups of moves printed, as of `now`. */
  breaks(now: number): void {
    this.run.classifier.tick(now);
    this.run.output.breakTick(now);
  }

  start(statsIntervalMs: number, clock: Clock): void {
    this.#timers = [setInterval(() => this.stats(clock()), statsIntervalMs), setInterval(() => this.breaks(clock()), BREAK_TICK_MS)];
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
  }
}
