// Everything a person or a file sees while a run goes on: the human lines (with colour when the
// command chose it), the NDJSON event log, loss-burst throttling, the cluster events just before
// each break, the classified breaks and their grouped lines, and the warnings. It also keeps what
// the report lists (events, attributions, break findings and groups), so the screen and the file
// are fed by the same calls. Time comes from the run's clock; the lines go to `write`, so a test
// passes a fake of both.
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import pino from 'pino';
import type { Clock } from '../common/clock.js';
import type { ClusterEvent, ClusterWatch } from '../common/cluster-events.js';
import { SetupError } from '../common/errors.js';
import type { BindingResponse } from '../common/stun/codec.js';
import type { BreakFinding } from './break-classifier.js';
import { BreakGroups, type BreakGroup } from './break-groups.js';
import { breakFindingLine, breakGroupLine } from './break-lines.js';
import { breakGroupRecordOf, breakRecordOf, type BreakGroupRecord, type BreakRecord } from './break-records.js';
import { connectionLossLine, connectionStepLine, giveUpLine, reconnectionLine } from './connection-lines.js';
import type { ConnectionLoss, GiveUp, Reconnection } from './connection-state.js';
import type { ConnectionStep } from './connection-table.js';
import { attributionLine, clockTime, clusterEventLine, sessionEventLine } from './event-lines.js';
import type { SessionEvent } from './events.js';
import { MAX_REPORT_EVENTS, reportClusterEventOf, reportEventOf, type Attribution, type ClientReport, type ReportEvent } from './report.js';
import { statsLine, targetStatsLine, type StatsSnapshot } from './stats-line.js';
import { summaryLines } from './summary.js';
import type { ResolvedTarget } from './target.js';
import { formatPercent } from './verdict.js';

/** The NDJSON log: pino's `info` and `flush`, or a fake. */
export interface EventLog {
  info(fields: object, message: string): void;
  flush(): void;
}

/** What the first line of a run says. */
export interface StartedRun {
  mode?: 'client' | 'demo';
  target: ResolvedTarget;
  /** Further targets (dual stack); sessions are split between them all. */
  extraTargets?: readonly ResolvedTarget[];
  sessions: number;
  intervalMs: number;
  timeoutMs: number;
  rampMs: number;
  durationMs?: number;
}

export interface RunOutputOptions {
  /** Writes one human line (stdout in the CLI). */
  write: (line: string) => void;
  style: ChalkInstance;
  clock: Clock;
  eventLog?: EventLog;
  watch?: ClusterWatch;
  /** --max-loss: a period above it prints a loss line with its cluster events. */
  maxLossPercent: number;
}

const plain = new Chalk({ level: 0 });
const ATTRIBUTION_LIMIT = 3;
const ATTRIBUTION_WINDOW_MS = 30_000;
/**
 * Loss-burst lines printed per stats period; the rest are counted in one line (and all go to the
 * NDJSON log), so a dead target does not scroll 10,000 identical lines. Classified breaks (moves,
 * address changes, stuck and recovered sessions) are always printed, every one.
 */
export const LOSS_BURST_LINES_PER_PERIOD = 10;

/**
 * Fails at the start, not after an hour-long run, when one of the run's files could not be
 * written: SetupError naming the flag.
 */
export function checkOutputsWritable(files: { reportFile?: string; eventsFile?: string; htmlFile?: string }): void {
  for (const [flag, path] of [
    ['--report', files.reportFile],
    ['--events', files.eventsFile],
    ['--report-html', files.htmlFile],
  ] as const) {
    if (path === undefined) continue;
    if (existsSync(path) && statSync(path).isDirectory()) throw new SetupError('output-unwritable', `cannot write ${flag} ${path}: it is a directory`);
    try {
      accessSync(dirname(resolvePath(path)), fsConstants.W_OK);
    } catch {
      throw new SetupError('output-unwritable', `cannot write ${flag} ${path}: its directory does not exist or is not writable`);
    }
  }
}

/** Opens the NDJSON event log; SetupError when the file cannot be opened. */
export function openEventLog(path: string): EventLog {
  try {
    return pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: path, sync: true }));
  } catch (error) {
    throw new SetupError('output-unwritable', `cannot open --events ${path}: ${(error as Error).message}`);
  }
}

export class RunOutput {
  /** Session events for the report (not `established`), at most MAX_REPORT_EVENTS. */
  readonly reportEvents: ReportEvent[] = [];
  /** Events beyond MAX_REPORT_EVENTS. */
  eventsOmitted = 0;
  /** Breaks with the cluster events just before them (with a watch). */
  readonly attributions: Attribution[] = [];
  /** Classified breaks for the report, at most MAX_REPORT_EVENTS. */
  readonly breakFindings: BreakRecord[] = [];
  /** Findings beyond MAX_REPORT_EVENTS (the classifier's counts still have them). */
  findingsOmitted = 0;
  readonly breakGroups: BreakGroupRecord[] = [];
  private readonly groups = new BreakGroups();
  private burstLines = 0;
  private burstLinesHeld = 0;
  private truncationWarned = false;

  constructor(private readonly options: RunOutputOptions) {}

  /** The bold line a run starts with: what it sends where, how often, for how long. */
  started(run: StartedRun, requestSize: number): void {
    const named = (target: ResolvedTarget) => target.endpoint + (target.host !== target.address ? ` (${target.host})` : '');
    const extra = run.extraTargets ?? [];
    const where = extra.length === 0 ? named(run.target) : `${[run.target, ...extra].map(named).join(' and ')}, split round robin`;
    this.options.write(
      this.options.style.bold(
        `${clockTime(this.options.clock())} ${run.mode === 'demo' ? 'demo client' : 'client'}: ${run.sessions} sessions -> ${where}` +
          `, every ${formatSetting(run.intervalMs)}, timeout ${formatSetting(run.timeoutMs)}, ramp ${formatSetting(run.rampMs)}, ` +
          `${run.durationMs === undefined ? 'until Ctrl-C' : `for ${formatSetting(run.durationMs)}`}, ${requestSize}-byte requests (times UTC)`,
      ),
    );
  }

  /**
   * A session event: logged and kept for the report; printed when established or a loss burst
   * (up to LOSS_BURST_LINES_PER_PERIOD a period). Pod and address changes are printed as classified
   * breaks (breakFinding), so here only the cluster events under an address change's line are.
   */
  session(event: SessionEvent): void {
    const { write, style, eventLog } = this.options;
    const held = event.type === 'loss-burst' && this.burstLines++ >= LOSS_BURST_LINES_PER_PERIOD;
    if (held) this.burstLinesHeld++;
    else if (event.type === 'established' || event.type === 'loss-burst') write(sessionEventLine(event, style));
    eventLog?.info({ event: event.type, at: event.time, session: event.session, ...eventFields(event) }, sessionEventLine(event, plain));
    if (event.type === 'established') return;
    if (this.reportEvents.length < MAX_REPORT_EVENTS) this.reportEvents.push(reportEventOf(event));
    else this.eventsOmitted++;
    // A move's line can come seconds later, when its class is final, and names the cause that decided it.
    this.attribute(event.type, event.session, event.time, !held && event.type !== 'pod-change');
  }

  /**
   * A classified break: printed, every one (violations, address changes and stuck sessions red,
   * expected moves and recoveries yellow), logged, kept for the report; moves also join a group.
   */
  breakFinding(finding: BreakFinding): void {
    if (finding.type === 'move') this.groups.add(finding);
    this.options.write(breakFindingLine(finding, this.options.style));
    const record = breakRecordOf(finding);
    this.options.eventLog?.info({ event: 'break', at: finding.time, ...record }, breakFindingLine(finding, plain));
    if (this.breakFindings.length < MAX_REPORT_EVENTS) this.breakFindings.push(record);
    else this.findingsOmitted++;
  }

  /** The groups of moves complete at `now` (the run calls it every BREAK_TICK_MS). */
  breakTick(now: number): void {
    for (const group of this.groups.tick(now)) this.breakGroup(group);
  }

  /** At the end of the run, after the classifier's last findings: the groups still open. */
  breakEnd(): void {
    for (const group of this.groups.flush()) this.breakGroup(group);
  }

  private breakGroup(group: BreakGroup): void {
    this.options.write(breakGroupLine(group, this.options.style));
    const record = breakGroupRecordOf(group);
    this.options.eventLog?.info({ event: 'break-group', at: group.time, ...record }, breakGroupLine(group, plain));
    this.breakGroups.push(record);
  }

  /** A TCP connection lost (red), printed and logged like a UDP break: the pod it was on and how it ended. */
  connectionLost(session: number, loss: ConnectionLoss): void {
    this.options.write(connectionLossLine(session, loss, this.options.style));
    this.options.eventLog?.info(
      { event: 'connection-lost', at: loss.time, session, pod: loss.pod ?? null, end: loss.end },
      connectionLossLine(session, loss, plain),
    );
  }

  /** A lost TCP connection back: how long it was down and whether it landed on another pod. */
  reconnected(session: number, r: Reconnection): void {
    this.options.write(reconnectionLine(session, r, this.options.style));
    this.options.eventLog?.info(
      { event: 'reconnected', at: r.time, session, downMs: r.downMs, from: r.from ?? null, to: r.to, moved: r.moved },
      reconnectionLine(session, r, plain),
    );
  }

  /** A session that stopped reconnecting: it stays without a connection to the end of the run. */
  gaveUp(session: number, giveUp: GiveUp): void {
    this.options.write(giveUpLine(session, giveUp, this.options.style));
    this.options.eventLog?.info(
      { event: 'gave-up', at: giveUp.time, session, attempts: giveUp.attempts, pod: giveUp.lastLoss?.pod ?? null, downMs: giveUp.lastLoss === undefined ? null : giveUp.time - giveUp.lastLoss.time },
      giveUpLine(session, giveUp, plain),
    );
  }

  /** A stats tick's TCP step: connections open, lost and reconnected per pod (ctraffic's table row). */
  connectionStep(step: ConnectionStep): void {
    this.options.write(connectionStepLine(step, this.options.style));
    this.options.eventLog?.info({ event: 'connections', at: step.time, open: step.open, lost: step.lost, reconnected: step.reconnected }, connectionStepLine(step, plain));
  }

  /** A cluster event as the watch sees it. */
  cluster(event: ClusterEvent): void {
    this.options.write(clusterEventLine(event, this.options.style));
    this.options.eventLog?.info({ event: 'cluster', at: event.time, kind: event.kind, subject: event.subject }, event.text);
  }

  /**
   * Warns once when the server cut its replies to fit the request size. Our server adds the
   * counter first and SOFTWARE last, within the request's size (server/responder.ts), so a reply
   * with the counter but without SOFTWARE was cut.
   */
  reply(response: BindingResponse, requestSize: number): void {
    if (this.truncationWarned || response.sessionRequestCount === undefined || response.software !== undefined) return;
    this.truncationWarned = true;
    this.options.write(
      this.options.style.yellow(
        `warning: the server cut its replies to fit ${requestSize}-byte requests, so some lack the pod, node or counter; raise --payload-size`,
      ),
    );
  }

  /** The periodic stats line, with the loss bursts held back and the period's loss when above --max-loss. */
  stats(snapshot: StatsSnapshot, extra: { socketErrors: Readonly<Record<string, number>>; schedulingLagP99Ms: number | null }): void {
    const { write, style, eventLog, maxLossPercent } = this.options;
    const now = snapshot.time;
    if (this.burstLinesHeld > 0) {
      write(style.yellow(`${clockTime(now)} ... and ${this.burstLinesHeld} more loss bursts in this period (all of them are in the report and --events)`));
    }
    this.burstLines = 0;
    this.burstLinesHeld = 0;
    write(statsLine(snapshot, style));
    for (const target of snapshot.targets ?? []) write(targetStatsLine(target, style));
    const { totals, period, rtt, pods, breaks, targets } = snapshot;
    const socketErrors = Object.values(extra.socketErrors).reduce((sum, n) => sum + n, 0);
    eventLog?.info(
      { event: 'stats', at: now, totals, period, rtt, pods, breaks, socketErrors, schedulingLagP99Ms: extra.schedulingLagP99Ms, ...(targets ? { targets } : {}) },
      statsLine(snapshot, plain),
    );
    if (period.sent > 0 && period.lossPercent > maxLossPercent) {
      write(
        style.yellow(
          `${clockTime(now)} LOSS BURST: ${formatPercent(period.lossPercent)} of the last period's requests timed out (--max-loss ${maxLossPercent}%)`,
        ),
      );
      this.attribute('period-loss', null, now);
    }
  }

  /** At the planned end, when replies are still in flight. */
  draining(inFlight: number, timeoutMs: number): void {
    if (inFlight > 0 && timeoutMs >= 1000) {
      this.options.write(`${clockTime(this.options.clock())} waiting up to ${formatSetting(timeoutMs)} (--timeout) for ${inFlight} replies in flight`);
    }
  }

  /** The summary from the report, then the report's write error if any; flushes the event log. */
  summary(report: ClientReport, reportFile: string | undefined, reportError: string | undefined): void {
    const { write, style, eventLog } = this.options;
    for (const line of summaryLines(report, style, reportError === undefined ? reportFile : undefined)) write(line);
    if (reportError !== undefined) write(style.red(reportError));
    eventLog?.info({ event: 'summary', totals: report.totals, verdict: report.verdict, pendingAtStop: report.pendingAtStop }, 'run ended');
    eventLog?.flush();
  }

  /** A listener that threw: said in red, the run goes on. */
  internalError(error: unknown, listener: string): void {
    this.options.write(this.options.style.red(`internal error in a ${listener} listener: ${(error as Error)?.message ?? String(error)}`));
  }

  private attribute(type: Attribution['type'], session: number | null, time: number, print = true): void {
    const watch = this.options.watch;
    if (!watch) return;
    const causes = watch.eventsBefore(time, ATTRIBUTION_LIMIT, ATTRIBUTION_WINDOW_MS);
    if (causes.length === 0) return;
    if (print) for (const cause of causes) this.options.write(attributionLine(cause, time, this.options.style));
    this.attributions.push({
      time: new Date(time).toISOString(),
      type,
      session,
      causes: causes.map((c) => ({ ...reportClusterEventOf(c), beforeMs: Math.round(time - c.time) })),
    });
  }
}

/** A setting as people type it: `2s`, `250ms`. */
export function formatSetting(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The machine-readable fields of a session event for the NDJSON log. */
function eventFields(event: SessionEvent): Record<string, unknown> {
  switch (event.type) {
    case 'established':
      return { pod: event.identity.label, node: event.identity.node, mapped: event.mapped, rttMs: event.rttMs };
    case 'pod-change':
      return { from: event.from.label, fromNode: event.from.node, to: event.to.label, toNode: event.to.node, silentMs: event.silentMs };
    case 'address-change':
      return { from: event.from, to: event.to, silentMs: event.silentMs };
    case 'loss-burst':
      return { consecutive: event.consecutive, silentMs: event.silentMs };
  }
}
