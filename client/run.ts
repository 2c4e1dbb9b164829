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
import { TypedEmitter, type ClientEvents } from './events.js';
import { checkDescriptors } from './file-descriptors.js';
import { buildReport, reportClusterEventOf, reportSchedulingOf, writeReport, type ClientReport } from './report.js';
import { RequestEncoder } from './request-encoder.js';
import { openEventLog, RunOutput } from './run-output.js';
import { Scheduler } from './scheduler.js';
import { IdentityRegistry } from './serving-identity.js';
import { Session } from './session.js';
import type { SessionSocket } from './session-socket.js';
import { openSessionSockets } from './session-sockets.js';
import { RunEnd } from './run-end.js';
import type { RttHistogram } from './rtt-histogram.js';
import { kernelReceiveDrops } from './socket-drops.js';
import { lossPercent, PeriodTracker, podDistribution, rttSummary, totalsOf } from './stats.js';
import type { ResolvedTarget } from './target.js';
import { verdictOf, type Limits, type Verdict } from './verdict.js';

export interface ClientRunOptions {
  mode?: 'client' | 'demo';
  target: ResolvedTarget;
  sessions: number;
  rampMs: number;
  intervalMs: number;
  timeoutMs: number;
  /** Requests are padded to at least this many bytes, so the server can answer with everything. */
  payloadSize: number;
  /** Stop after this long; undefined runs until `signal` aborts. */
  durationMs?: number;
  statsIntervalMs: number;
  limits: Limits;
  /** Where the JSON report goes; undefined writes none. */
  reportFile?: string;
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
  /** The run's one clock (default monotonicClock); tests pass a fake. */
  clock?: Clock;
  /** Called once every socket is open, before the first request (tests, the demo). */
  onReady?: (run: RunningClient) => void;
}

export interface RunningClient {
  readonly sessions: readonly Session[];
  readonly sockets: readonly SessionSocket[];
  /** Datagrams that did not decode as a Binding Success Response. */
  readonly undecodable: number;
  /** The RTT of every reply so far: the histogram the report's figures come from. */
  readonly rtt: RttHistogram;
  /** The run's events, for live views that follow them (the status line's last break). */
  readonly events: TypedEmitter<ClientEvents>;
}

export interface ClientRunResult {
  report: ClientReport;
  verdict: Verdict;
  /** Set when the report could not be written (the run's figures are still in `report`). */
  reportError?: string;
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
  const eventLog = options.eventsFile === undefined ? undefined : openEventLog(options.eventsFile);
  const output = new RunOutput({ write: options.write, style: options.style, clock, eventLog, watch, maxLossPercent: options.limits.maxLoss });
  const emitter = new TypedEmitter<ClientEvents>((error, name) => output.internalError(error, String(name)));
  emitter.on('session', (event) => output.session(event));
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
  const sockets = await openSessionSockets({
    sessions,
    target,
    clock,
    recvBufferBytes: options.recvBufferBytes,
    onReply: (outcome, response) => {
      if (outcome.rttMs !== undefined) tracker.recordRtt(outcome.rttMs);
      if (outcome.kind === 'answered' || outcome.kind === 'reordered') end.answered();
      output.reply(response, encoder.size);
    },
  });
  options.onReady?.({ sessions, sockets: sockets.sockets, get undecodable() { return sockets.undecodable; }, rtt: tracker.total, events: emitter });

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
      const sequence = session.send(now);
      sockets.send(index, encoder.encode(session.sessionId, sequence, session.tagOf(sequence)));
    },
  });
  const statsTick = (): void => {
    const now = clock();
    for (const session of sessions) session.expire(now);
    const totals = totalsOf(sessions);
    output.stats({ time: now, totals, ...tracker.next(totals), pods: podDistribution(sessions) }, { socketErrors: sockets.errors, schedulingLagP99Ms: scheduler.lag.percentile(99) ?? null });
  };
  scheduler.start(startedAt);
  const statsTimer = setInterval(statsTick, options.statsIntervalMs);

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
  const endedAt = clock();
  for (const session of sessions) session.finish(endedAt);
  const clientSocketDrops = kernelReceiveDrops(sockets.sockets.map((s) => s.localPort));
  sockets.close();

  const totals = totalsOf(sessions);
  const { limits } = options;
  const verdict = verdictOf({ lossPercent: lossPercent(totals.lost, totals.sent, totals.pending), lost: totals.lost, podChanges: totals.podChanges, addressChanges: totals.addressChanges }, limits);
  const report = buildReport({
    mode: options.mode ?? 'client',
    startedAt,
    endedAt,
    interrupted,
    target: { host: target.host, address: target.address, port: target.port },
    settings: options,
    verdict,
    verdictNote: options.verdictNote,
    totals,
    rtt: rttSummary(tracker.total),
    scheduling: reportSchedulingOf(scheduler.lag, scheduler.skipped),
    clientSocketDrops,
    socketErrors: sockets.errors,
    sessions,
    localPorts: sockets.sockets.map((s) => s.localPort),
    identities: identities.all(),
    events: output.reportEvents,
    eventsOmitted: output.eventsOmitted,
    cluster: { watched: watch !== undefined, events: watch?.events().map(reportClusterEventOf) ?? [], attributions: output.attributions },
  });
  const reportError = options.reportFile === undefined ? undefined : writeReport(options.reportFile, report);
  output.summary(report, options.reportFile, reportError);
  return { report, verdict, reportError };
}
