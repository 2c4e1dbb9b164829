// A client run, start to finish: open one socket per session, let the scheduler send, and at the
// end build the report and the verdict. What people see on the way is run-output.ts; how replies
// reach their sessions is session-sockets.ts. It returns values; the exit code is the command's.
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { monotonicClock, type Clock } from '../common/clock.js';
import type { ClusterWatch } from '../common/cluster-events.js';
import { SetupError } from '../common/errors.js';
import { newRunId, sessionIdOf } from '../common/stun/transaction-id.js';
import { BreakClassifier, settleWindowMs, type BreakCounts } from './break-classifier.js';
import { TypedEmitter, type ClientEvents } from './events.js';
import { checkDescriptors } from './file-descriptors.js';
import { buildReport, reportClusterEventOf, reportSchedulingOf, writeReport, type ClientReport } from './report.js';
import { RequestEncoder } from './request-encoder.js';
import { openEventLog, RunOutput } from './run-output.js';
import { Scheduler } from './scheduler.js';
import { IdentityRegistry } from './serving-identity.js';
import { Session } from './session.js';
import type { SessionSocket } from './session-socket.js';
import type { ReconnectPolicy } from './connection-state.js';
import type { SessionConnections } from './session-connections.js';
import { breaksReportOf } from './break-records.js';
import { RunEnd } from './run-end.js';
import type { RttHistogram } from './rtt-histogram.js';
import { RunTimeline } from './run-timeline.js';
import { openRunTransport } from './run-transport.js';
import { lossPercent, PeriodTracker, podDistribution, rttSummary, totalsOf } from './stats.js';
import type { ResolvedTarget } from './target.js';
import { TargetFigures } from './target-groups.js';
import { affinityVerdictOf, type AffinityLimits, type Verdict } from './verdict.js';

/**
 * How often stuck sessions are looked for and waiting moves decided: a STUCK line comes within a
 * quarter of a second of the crossing, well below the 1 s window of the grouped lines.
 */
export const BREAK_TICK_MS = 250;

export interface ClientRunOptions {
  mode?: 'client' | 'demo';
  target: ResolvedTarget;
  /**
   * Further targets (dual stack: --target twice, --family both): session i sends to
   * [target, ...extraTargets][i mod their number], and the report and stats show each apart.
   */
  extraTargets?: readonly ResolvedTarget[];
  sessions: number;
  rampMs: number;
  intervalMs: number;
  timeoutMs: number;
  /** Requests are padded to at least this many bytes, so the server can answer with everything. */
  payloadSize: number;
  /** Stop after this long; undefined runs until `signal` aborts. */
  durationMs?: number;
  statsIntervalMs: number;
  limits: AffinityLimits;
  /** --stuck-after (default DEFAULT_STUCK_AFTER_MS). */
  stuckAfterMs?: number;
  /** Where the JSON report goes; undefined writes none. */
  reportFile?: string;
  /** Where the HTML page of the report goes (--report-html); undefined writes none. */
  htmlFile?: string;
  /** NDJSON (pino) log of every event and stats line. */
  eventsFile?: string;
  /** Writes one human line (stdout in the CLI). */
  write: (line: string) => void;
  style: ChalkInstance;
  /** Aborting ends the run at once (Ctrl-C): summary and report still come out. */
  signal?: AbortSignal;
  watch?: ClusterWatch;
  /** Printed under the verdict and stored in the report (the demo explains its breaks). */
  verdictNote?: string;
  /** SO_RCVBUF of each session socket (default SESSION_RECV_BUFFER_BYTES). */
  recvBufferBytes?: number;
  /** Local address of the session sockets (--bind-address); default every address. */
  bindAddress?: string;
  /** The run's one clock (default monotonicClock); tests pass a fake. */
  clock?: Clock;
  /** `tcp`: one long-lived connection per session (client/session-connections.ts). Default udp. */
  protocol?: 'udp' | 'tcp';
  /** TCP only: when and how often to reconnect (default DEFAULT_RECONNECT). */
  reconnect?: ReconnectPolicy;
  /** Called once every socket is open, before the first request (tests, the demo). */
  onReady?: (run: RunningClient) => void;
}

export interface RunningClient {
  readonly sessions: readonly Session[];
  readonly sockets: readonly SessionSocket[];
  /** With --protocol tcp: the connections (undefined on UDP). */
  readonly connections?: SessionConnections;
  /** Datagrams that did not decode as a Binding Success Response. */
  readonly undecodable: number;
  /** The RTT of every reply so far: the histogram the report's figures come from. */
  readonly rtt: RttHistogram;
  /** The run's events, for live views that follow them (the status line's last break). */
  readonly events: TypedEmitter<ClientEvents>;
  /** The affinity verdict's counts so far. */
  readonly breaks: () => BreakCounts;
}

export interface ClientRunResult {
  report: ClientReport;
  verdict: Verdict;
  /** Set when the report could not be written (the run's figures are still in `report`). */
  reportError?: string;
  /** Set when the HTML page could not be written. */
  htmlError?: string;
}

/** Fails at the start, not after an hour-long run, when the report could not be written. */
function checkWritable(path: string, flag: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new SetupError('output-unwritable', `cannot write ${flag} ${path}: it is a directory`);
  try {
    accessSync(dirname(resolvePath(path)), fsConstants.W_OK);
  } catch {
    throw new SetupError('output-unwritable', `cannot write ${flag} ${path}: its directory does not exist or is not writable`);
  }
}


export async function runClient(options: ClientRunOptions): Promise<ClientRunResult> {
  const { target, watch } = options;
  const clock = options.clock ?? monotonicClock;
  checkDescriptors(options.sessions);
  if (options.reportFile !== undefined) checkWritable(options.reportFile, '--report');
  if (options.eventsFile !== undefined) checkWritable(options.eventsFile, '--events');
  if (options.htmlFile !== undefined) checkWritable(options.htmlFile, '--report-html');
  const eventLog = options.eventsFile === undefined ? undefined : openEventLog(options.eventsFile);
  const output = new RunOutput({ write: options.write, style: options.style, clock, eventLog, watch, maxLossPercent: options.limits.maxLoss });
  const classifier = new BreakClassifier({
    sessions: options.sessions,
    watched: watch !== undefined,
    settleMs: settleWindowMs(options.intervalMs, options.timeoutMs),
    stuckAfterMs: options.stuckAfterMs,
    emit: (finding) => output.breakFinding(finding),
  });
  const emitter = new TypedEmitter<ClientEvents>((error, name) => output.internalError(error, String(name)));
  // The classifier first: an address change's classified line then comes before its cluster events.
  emitter.on('session', (event) => classifier.sessionEvent(event));
  emitter.on('session', (event) => output.session(event));
  emitter.on('cluster', (event) => classifier.clusterEvent(event));
  emitter.on('cluster', (event) => output.cluster(event));
  watch?.onEvent((event) => emitter.emit('cluster', event));

  const identities = new IdentityRegistry(watch ? (ip) => watch.podForIp(ip) : undefined);
  const runId = newRunId();
  const sessions = Array.from(
    { length: options.sessions },
    (_, i) => new Session({ number: i + 1, sessionId: sessionIdOf(runId, i), timeoutMs: options.timeoutMs, identities, emit: (event) => emitter.emit('session', event) }),
  );
  const tracker = new PeriodTracker();
  const encoder = new RequestEncoder(options.payloadSize);
  const end = new RunEnd();
  const perTarget = new TargetFigures([target, ...(options.extraTargets ?? [])], sessions);
  let timeline: RunTimeline | undefined;
  const transport = await openRunTransport({
    ...options,
    sessions,
    clock,
    onConnectionLoss: (session, loss) => output.connectionLost(session, loss),
    onReconnection: (session, reconnection) => output.reconnected(session, reconnection),
    onReply: (outcome, response, session, now, index) => {
      if (outcome.rttMs !== undefined) {
        tracker.recordRtt(outcome.rttMs);
        timeline?.rtt(outcome.rttMs);
        perTarget.rtt(index, outcome.rttMs);
        // After session.reply(), so the pod and address changes it emitted came first.
        classifier.reply(session.number, session.identity!, now - outcome.rttMs, now);
      }
      if (outcome.kind === 'answered' || outcome.kind === 'reordered') end.answered();
      output.reply(response, encoder.size);
    },
  });
  options.onReady?.({
    sessions,
    sockets: transport.udpSockets,
    connections: transport.connections,
    get undecodable() {
      return transport.undecodable;
    },
    rtt: tracker.total,
    events: emitter,
    breaks: () => classifier.counts().total,
  });

  const startedAt = clock();
  output.started(options, encoder.size);
  const scheduler = new Scheduler({
    count: sessions.length,
    intervalMs: options.intervalMs,
    rampMs: options.rampMs,
    clock,
    onDue: (index, now) => {
      const session = sessions[index]!;
      session.expire(now);
      // A TCP session sends only on an open connection; one with a request past --timeout ends here.
      if (!transport.ready(index, now)) return;
      const sequence = session.send(now);
      classifier.sent(session.number, now);
      transport.send(index, encoder.encode(session.sessionId, sequence, session.tagOf(sequence)));
    },
  });
  const statsTick = (): void => {
    const now = clock();
    for (const session of sessions) session.expire(now);
    const totals = totalsOf(sessions);
    const targets = perTarget.stats();
    output.stats(
      { time: now, totals, ...tracker.next(totals), pods: podDistribution(sessions), breaks: classifier.counts().total, ...(targets ? { targets } : {}) },
      { socketErrors: transport.errors, schedulingLagP99Ms: scheduler.lag.percentile(99) ?? null },
    );
    const step = transport.connectionStep(now);
    if (step !== undefined) output.connectionStep(step);
  };
  timeline = new RunTimeline(startedAt, sessions, () => classifier.counts().total, clock);
  scheduler.start(startedAt);
  timeline.start();
  const statsTimer = setInterval(statsTick, options.statsIntervalMs);
  const breakTimer = setInterval(() => {
    const now = clock();
    classifier.tick(now);
    output.breakTick(now);
  }, BREAK_TICK_MS);

  let interrupted = await end.until(options.durationMs, options.signal);
  scheduler.stop();
  // At the planned end, give the replies in flight their timeout to arrive; on Ctrl-C, stop now
  // and leave them pending (not lost).
  if (!interrupted) {
    const inFlight = sessions.reduce((n, s) => n + s.pending, 0);
    output.draining(inFlight, options.timeoutMs);
    interrupted = await end.untilAnswered(inFlight, options.timeoutMs, options.signal);
  }
  clearInterval(statsTimer);
  clearInterval(breakTimer);
  const endedAt = clock();
  for (const session of sessions) session.finish(endedAt);
  classifier.finish(endedAt);
  output.breakEnd();
  // After finish(), so the timeline adds up to the report's totals.
  timeline.stop(endedAt);
  const transportEnd = transport.close(endedAt);

  const totals = totalsOf(sessions);
  const breaks = classifier.counts();
  const verdict = affinityVerdictOf(
    {
      lossPercent: lossPercent(totals.lost, totals.sent, totals.pending),
      lost: totals.lost,
      violations: breaks.total.violations,
      stuck: breaks.total.stuck,
      podChanges: totals.podChanges,
      addressChanges: totals.addressChanges,
    },
    options.limits,
  );
  const targets = perTarget.report();
  const report = buildReport({
    mode: options.mode ?? 'client',
    startedAt,
    endedAt,
    interrupted,
    target: { host: target.host, address: target.address, port: target.port },
    ...(targets ? { targets } : {}),
    settings: { ...options, stuckAfterMs: classifier.stuckAfterMs },
    verdict,
    verdictNote: options.verdictNote,
    totals,
    rtt: rttSummary(tracker.total),
    scheduling: reportSchedulingOf(scheduler.lag, scheduler.skipped),
    clientSocketDrops: transportEnd.clientSocketDrops,
    socketErrors: transport.errors,
    sessions,
    localPorts: transportEnd.localPorts,
    identities: identities.all(),
    events: output.reportEvents,
    eventsOmitted: output.eventsOmitted,
    protocol: options.protocol ?? 'udp',
    connections: transportEnd.connections,
    cluster: { watched: watch !== undefined, events: watch?.events().map(reportClusterEventOf) ?? [], attributions: output.attributions },
    breaks: breaksReportOf(classifier, breaks, output),
    timeline: timeline.toReport(),
  });
  const reportError = options.reportFile === undefined ? undefined : writeReport(options.reportFile, report);
  output.summary(report, options.reportFile, reportError);
  const htmlError = options.htmlFile === undefined ? undefined : await writeHtml(report, options.htmlFile, options);
  return { report, verdict, reportError, htmlError };
}

/** The HTML page (--report-html); the charting libraries load only here, when a page is written. */
async function writeHtml(report: ClientReport, file: string, options: Pick<ClientRunOptions, 'write' | 'style'>): Promise<string | undefined> {
  try {
    const { writeReportOutputs } = await import('../report/command.js');
    for (const line of await writeReportOutputs(report, { html: file }, file)) options.write(line);
    return undefined;
  } catch (error) {
    const message = `--report-html: ${(error as Error).message}`;
    options.write(options.style.red(message));
    return message;
  }
}
