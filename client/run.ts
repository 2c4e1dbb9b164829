// A client run, start to finish: open one socket per session, let the scheduler send, and at the
// end build the report and the verdict. What people see on the way is run-output.ts; how replies
// reach their sessions is run-transport.ts; the timers' routine work is run-ticks.ts; when the run
// ends is run-end.ts; what goes in the report is run-report.ts. It returns values; the exit code
// is the command's.
import type { ChalkInstance } from 'chalk';
import { monotonicClock, type Clock } from '../common/clock.js';
import type { ClusterWatch } from '../common/cluster-events.js';
import { newRunId, sessionIdOf } from '../common/stun/transaction-id.js';
import { BreakClassifier, settleWindowMs, type BreakCounts } from './break-classifier.js';
import type { ReconnectPolicy } from './connection-state.js';
import { TypedEmitter, type ClientEvents } from './events.js';
import { checkDescriptors } from './file-descriptors.js';
import { writeReport, type ClientReport } from './report.js';
import { RequestEncoder } from './request-encoder.js';
import type { RttHistogram } from './rtt-histogram.js';
import { RunEnd } from './run-end.js';
import { checkOutputsWritable, openEventLog, RunOutput } from './run-output.js';
import { runReportOf } from './run-report.js';
import { RunTicks } from './run-ticks.js';
import { RunTimeline } from './run-timeline.js';
import { openRunTransport } from './run-transport.js';
import { Scheduler } from './scheduler.js';
import { IdentityRegistry } from './serving-identity.js';
import { Session } from './session.js';
import type { SessionConnections } from './session-connections.js';
import type { SessionSocket } from './session-socket.js';
import { PeriodTracker } from './stats.js';
import type { ResolvedTarget } from './target.js';
import { TargetFigures } from './target-groups.js';
import type { AffinityLimits, Verdict } from './verdict.js';

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

export async function runClient(options: ClientRunOptions): Promise<ClientRunResult> {
  const { target, watch } = options;
  const clock = options.clock ?? monotonicClock;
  checkDescriptors(options.sessions);
  checkOutputsWritable(options);
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
    onGiveUp: (session, giveUp) => output.gaveUp(session, giveUp),
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
  timeline = new RunTimeline(startedAt, sessions, () => classifier.counts().total, clock);
  const ticks = new RunTicks({ sessions, tracker, perTarget, classifier, output, transport, scheduler });
  scheduler.start(startedAt);
  timeline.start();
  ticks.start(options.statsIntervalMs, clock);

  const interrupted = await end.wait(options, {
    stop: () => scheduler.stop(),
    inFlight: () => sessions.reduce((n, s) => n + s.pending, 0),
    draining: (inFlight) => output.draining(inFlight, options.timeoutMs),
  });
  ticks.stop();
  const endedAt = clock();
  for (const session of sessions) session.finish(endedAt);
  classifier.finish(endedAt);
  output.breakEnd();
  // After finish(), so the timeline adds up to the report's totals.
  timeline.stop(endedAt);
  const transportEnd = transport.close(endedAt);
  const { report, verdict } = runReportOf({ options, startedAt, endedAt, interrupted, sessions, identities, classifier, output, tracker, scheduler, transport, transportEnd, perTarget, timeline });
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
