// The live views of a client run, wired to the command's io: the status line on a terminal and
// /metrics on --metrics-port. Both read the same LiveRun once the sockets are open; neither is
// in --events or the report.
import type { Clock } from '../common/clock.js';
import type { CommandIo } from '../common/command-io.js';
import { SetupError } from '../common/errors.js';
import { startHttpSidePort, type HttpSidePort } from '../common/http.js';
import { LiveRun } from './live-run.js';
import { createClientMetrics } from './metrics.js';
import type { RunningClient } from './run.js';
import { StatusPainter } from './status-painter.js';
import { statusLine } from './status-line.js';

/** About four redraws a second: live enough to read, cheap with 100,000 sessions. */
export const STATUS_REFRESH_MS = 250;
const DEFAULT_COLUMNS = 80;

export interface LiveViewOptions {
  io: CommandIo;
  /** --status (on unless --no-status or STATUS=off); shown only when stdout is a terminal. */
  status: boolean;
  metrics?: { host: string; port: number };
  durationMs?: number;
  clock: Clock;
}

export interface LiveView {
  /** Writes one human line (above the status line when there is one). */
  write(line: string): void;
  /** The run's onReady: starts following it. */
  onReady(run: RunningClient): void;
  /** Where /metrics is served, when it is. */
  readonly metricsPort?: HttpSidePort;
  close(): Promise<void>;
}

export async function startLiveView(options: LiveViewOptions): Promise<LiveView> {
  const { io, clock } = options;
  let live: LiveRun | undefined;
  const metricsPort = options.metrics && (await startMetricsPort(options.metrics, () => live));
  const painter = options.status && io.isTTY ? newPainter(io, () => live, options.durationMs) : undefined;
  const stopResize = painter && io.onResize?.(() => painter.refresh());
  return {
    write: painter ? (line) => painter.line(line) : (line) => io.out(line + '\n'),
    onReady: (run) => {
      live = new LiveRun(run, clock);
      painter?.start(STATUS_REFRESH_MS);
    },
    metricsPort,
    // The summary is already written (the status line was redrawn below it): erase that last copy.
    close: async () => {
      stopResize?.();
      painter?.stop();
      await metricsPort?.close();
    },
  };
}

async function startMetricsPort(at: { host: string; port: number }, live: () => LiveRun | undefined): Promise<HttpSidePort> {
  try {
    return await startHttpSidePort({ ...at, registry: createClientMetrics(live), healthy: () => true });
  } catch (error) {
    throw new SetupError('port-in-use', `--metrics-port: ${(error as Error).message}`);
  }
}

function newPainter(io: CommandIo, live: () => LiveRun | undefined, durationMs: number | undefined): StatusPainter {
  return new StatusPainter({
    out: (text) => io.out(text),
    columns: () => io.columns ?? DEFAULT_COLUMNS,
    render: (width) => {
      const run = live();
      if (run === undefined) return '';
      const { now, totals, pods, lastBreakAt, breaks } = run.figures();
      const changeClasses = breaks === undefined ? undefined : { exp: breaks.expected, viol: breaks.violations, addr: breaks.addressChanges, stuck: breaks.stuck };
      return statusLine({ ...totals, startedAt: run.startedAt, durationMs, pods, lastBreakAt, ...(changeClasses ? { changeClasses } : {}) }, width, now);
    },
  });
}
