// A client run, start to finish: open one socket per session, let the scheduler send, classify
// every reply, print events and periodic stats, and at the end build the report and the verdict.
// It returns a result; printing the summary's exit code is the command's business.
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Chalk, type ChalkInstance } from 'chalk';
import pino, { type Logger } from 'pino';
import { UsageError } from '../common/errors.js';
import type { ClusterEvent, ClusterWatch } from '../common/cluster-events.js';
import { decodeBindingResponse } from '../common/stun/codec.js';
import { newRunId, sessionIdOf } from '../common/stun/transaction-id.js';
import { attributionLine, clusterEventLine, sessionEventLine, clockTime } from './event-lines.js';
import { TypedEmitter, type ClientEvents, type SessionEvent } from './events.js';
import { checkDescriptors } from './file-descriptors.js';
import {
  buildReport,
  MAX_REPORT_EVENTS,
  reportClusterEventOf,
  reportEventOf,
  writeReport,
  type Attribution,
  type ClientReport,
  type ReportEvent,
} from './report.js';
import { RequestEncoder } from './request-encoder.js';
import { Scheduler } from './scheduler.js';
import { ReplyKind, Session, type ReplySource } from './session.js';
import { openSessionSocket, type SessionSocket } from './session-socket.js';
import { kernelReceiveDrops } from './socket-drops.js';
import { IdentityRegistry } from './serving-identity.js';
import { lossPercent, PeriodTracker, podDistribution, rttSummary, totalsOf } from './stats.js';
import { statsLine } from './stats-line.js';
import { summaryLines } from './summary.js';
import type { ResolvedTarget } from './target.js';
import { exitCodeOf, formatPercent, verdictOf, type Limits, type Verdict } from './verdict.js';

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
  /** Called once every socket is open, before the first request (tests, the demo). */
  onReady?: (run: RunningClient) => void;
}

export interface RunningClient {
  readonly sessions: readonly Session[];
  readonly sockets: readonly SessionSocket[];
  /** Datagrams per session that did not decode as a Binding Success Response. */
  readonly undecodable: number;
}

export interface ClientRunResult {
  report: ClientReport;
  verdict: Verdict;
  /** 0 within the limits, 1 when one was broken. */
  exitCode: number;
  /** Set when the report could not be written (the run's figures are still in `report`). */
  reportError?: string;
}

/** Epoch milliseconds with sub-millisecond precision, that never goes backwards. */
export const clock = (): number => performance.timeOrigin + performance.now();

const plain = new Chalk({ level: 0 });
const ATTRIBUTION_LIMIT = 3;
const ATTRIBUTION_WINDOW_MS = 30_000;
const SOCKET_OPEN_BATCH = 256;
/**
 * SO_RCVBUF of each session socket. A session expects one reply per interval, but a burst
 * (duplicates, a balancer flushing a queue) must not overflow the kernel's default buffer: 1 MiB
 * holds about a thousand small replies. It is a cap, not an allocation, so 10,000 sockets cost
 * nothing until data queues. Linux caps it at net.core.rmem_max.
 */
export const SESSION_RECV_BUFFER_BYTES = 1024 * 1024;
/**
 * Loss-burst lines printed per stats period; the rest are counted in one line (and all go to the
 * NDJSON log), so a dead target does not scroll 10,000 identical lines. Pod and address changes
 * are always printed, every one.
 */
const LOSS_BURST_LINES_PER_PERIOD = 10;

/** Fails at the start, not after an hour-long run, when the report could not be written. */
function checkWritable(path: string, flag: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`cannot write ${flag} ${path}: it is a directory`);
  try {
    accessSync(dirname(resolvePath(path)), fsConstants.W_OK);
  } catch {
    throw new UsageError(`cannot write ${flag} ${path}: its directory does not exist or is not writable`);
  }
}

function openEventLog(path: string): Logger {
  try {
    return pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: path, sync: true }));
  } catch (error) {
    throw new UsageError(`cannot open --events ${path}: ${(error as Error).message}`);
  }
}

export async function runClient(options: ClientRunOptions): Promise<ClientRunResult> {
  const { target, style, write, limits, watch } = options;
  checkDescriptors(options.sessions);
  if (options.reportFile !== undefined) checkWritable(options.reportFile, '--report');
  if (options.eventsFile !== undefined) checkWritable(options.eventsFile, '--events');
  const eventLog = options.eventsFile === undefined ? undefined : openEventLog(options.eventsFile);

  const emitter = new TypedEmitter<ClientEvents>((error, name) => {
    write(style.red(`internal error in a ${String(name)} listener: ${(error as Error)?.message ?? String(error)}`));
  });
  const identities = new IdentityRegistry(watch ? (ip) => watch.podForIp(ip) : undefined);
  const runId = newRunId();
  const sessions: Session[] = [];
  for (let i = 0; i < options.sessions; i++) {
    sessions.push(
      new Session({
        number: i + 1,
        sessionId: sessionIdOf(runId, i),
        timeoutMs: options.timeoutMs,
        identities,
        emit: (event) => emitter.emit('session', event),
      }),
    );
  }

  // Events for the report, and cluster attributions.
  const reportEvents: ReportEvent[] = [];
  let eventsOmitted = 0;
  const attributions: Attribution[] = [];
  const attribute = (type: Attribution['type'], session: number | null, time: number, print = true): void => {
    if (!watch) return;
    const causes = watch.eventsBefore(time, ATTRIBUTION_LIMIT, ATTRIBUTION_WINDOW_MS);
    if (causes.length === 0) return;
    if (print) for (const cause of causes) write(attributionLine(cause, time, style));
    attributions.push({
      time: new Date(time).toISOString(),
      type,
      session,
      causes: causes.map((c) => ({ ...reportClusterEventOf(c), beforeMs: Math.round(time - c.time) })),
    });
  };

  let burstLines = 0;
  let burstLinesHeld = 0;
  emitter.on('session', (event: SessionEvent) => {
    const shown = event.type !== 'loss-burst' || burstLines++ < LOSS_BURST_LINES_PER_PERIOD;
    if (shown) write(sessionEventLine(event, style));
    else burstLinesHeld++;
    eventLog?.info({ event: event.type, at: event.time, session: event.session, ...eventFields(event) }, sessionEventLine(event, plain));
    if (event.type === 'established') return;
    if (reportEvents.length < MAX_REPORT_EVENTS) reportEvents.push(reportEventOf(event));
    else eventsOmitted++;
    attribute(event.type, event.session, event.time, shown);
  });
  emitter.on('cluster', (event: ClusterEvent) => {
    write(clusterEventLine(event, style));
    eventLog?.info({ event: 'cluster', at: event.time, kind: event.kind, subject: event.subject }, event.text);
  });
  watch?.onEvent((event) => emitter.emit('cluster', event));

  // Sockets: one per session, all open before the first request so the ramp is not slowed.
  const tracker = new PeriodTracker();
  const encoder = new RequestEncoder(options.payloadSize);
  const source: ReplySource = { address: target.address, endpoint: target.endpoint };
  const sockets: SessionSocket[] = [];
  let undecodable = 0;
  let socketErrors = 0;
  let truncationWarned = false;
  const warnTruncated = (): void => {
    truncationWarned = true;
    write(
      style.yellow(
        `warning: the server cut its replies to fit ${encoder.size}-byte requests, so some lack the pod, node or counter; raise --payload-size`,
      ),
    );
  };
  try {
    for (let start = 0; start < sessions.length; start += SOCKET_OPEN_BATCH) {
      const batch = sessions.slice(start, start + SOCKET_OPEN_BATCH).map((session) =>
        openSessionSocket({
          target,
          recvBufferBytes: options.recvBufferBytes ?? SESSION_RECV_BUFFER_BYTES,
          onError: () => socketErrors++,
          onMessage: (datagram) => {
            const now = clock();
            const decoded = decodeBindingResponse(datagram);
            if (!decoded.ok) {
              session.ignored++;
              undecodable++;
              return;
            }
            const response = decoded.response;
            if (session.reply(response, source, now) <= ReplyKind.Late) tracker.recordRtt(session.lastRttMs);
            // Our server adds the counter first and SOFTWARE last, within the request's size.
            if (!truncationWarned && response.sessionRequestCount !== undefined && response.software === undefined) warnTruncated();
          },
        }),
      );
      const settled = await Promise.allSettled(batch);
      for (const result of settled) if (result.status === 'fulfilled') sockets.push(result.value);
      const failure = settled.find((r) => r.status === 'rejected');
      if (failure) throw (failure as PromiseRejectedResult).reason;
    }
  } catch (error) {
    for (const socket of sockets) socket.close();
    throw error;
  }

  const running: RunningClient = {
    sessions,
    sockets,
    get undecodable() {
      return undecodable;
    },
  };
  options.onReady?.(running);

  const startedAt = clock();
  write(
    style.bold(
      `${clockTime(startedAt)} ${options.mode === 'demo' ? 'demo client' : 'client'}: ${options.sessions} sessions -> ${target.endpoint}` +
        (target.host !== target.address ? ` (${target.host})` : '') +
        `, every ${fmt(options.intervalMs)}, timeout ${fmt(options.timeoutMs)}, ramp ${fmt(options.rampMs)}, ` +
        `${options.durationMs === undefined ? 'until Ctrl-C' : `for ${fmt(options.durationMs)}`}, ${encoder.size}-byte requests (times UTC)`,
    ),
  );

  const scheduler = new Scheduler({
    count: sessions.length,
    intervalMs: options.intervalMs,
    rampMs: options.rampMs,
    now: clock,
    onDue: (index, now) => {
      const session = sessions[index]!;
      session.expire(now);
      const sequence = session.send(now);
      sockets[index]!.send(encoder.encode(session.sessionId, sequence, session.tagOf(sequence)));
    },
  });

  const statsTick = (): void => {
    const now = clock();
    for (const session of sessions) session.expire(now);
    const totals = totalsOf(sessions);
    const { period, rtt } = tracker.next(totals);
    const snapshot = { time: now, totals, period, rtt, pods: podDistribution(sessions) };
    if (burstLinesHeld > 0) {
      write(style.yellow(`${clockTime(now)} ... and ${burstLinesHeld} more loss bursts in this period (all of them are in the report and --events)`));
    }
    burstLines = 0;
    burstLinesHeld = 0;
    write(statsLine(snapshot, style));
    eventLog?.info(
      { event: 'stats', at: now, totals, period, rtt, pods: snapshot.pods, socketErrors, schedulingLagP99Ms: scheduler.lag.percentile(99) ?? null },
      statsLine(snapshot, plain),
    );
    if (period.sent > 0 && period.lossPercent > limits.maxLoss) {
      write(
        style.yellow(
          `${clockTime(now)} LOSS BURST: ${formatPercent(period.lossPercent)} of the last period's requests timed out (--max-loss ${limits.maxLoss}%)`,
        ),
      );
      attribute('period-loss', null, now);
    }
  };

  scheduler.start(startedAt);
  const statsTimer = setInterval(statsTick, options.statsIntervalMs);

  const interrupted = await new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      if (durationTimer !== undefined) clearTimeout(durationTimer);
      resolve(true);
    };
    const durationTimer =
      options.durationMs === undefined
        ? undefined
        : setTimeout(() => {
            options.signal?.removeEventListener('abort', onAbort);
            resolve(false);
          }, options.durationMs);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  scheduler.stop();

  // At the planned end, give the replies in flight their timeout to arrive; on Ctrl-C, stop now
  // and leave them pending (not lost).
  let stopped = interrupted;
  if (!interrupted) {
    const drainUntil = clock() + options.timeoutMs;
    const onAbort = (): void => {
      stopped = true;
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const inFlight = sessions.reduce((n, s) => n + s.pending, 0);
    if (inFlight > 0 && options.timeoutMs >= 1000) {
      write(`${clockTime(clock())} waiting up to ${fmt(options.timeoutMs)} (--timeout) for ${inFlight} replies in flight`);
    }
    while (!stopped && clock() < drainUntil && sessions.some((s) => s.pending > 0)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    options.signal?.removeEventListener('abort', onAbort);
  }
  clearInterval(statsTimer);
  const endedAt = clock();
  for (const session of sessions) session.finish(endedAt);
  const clientSocketDrops = kernelReceiveDrops(sockets.map((s) => s.localPort));
  for (const socket of sockets) socket.close();

  const totals = totalsOf(sessions);
  const rtt = rttSummary(tracker.total);
  const verdict = verdictOf({ lossPercent: lossPercent(totals.lost, totals.sent, totals.pending), lost: totals.lost, podChanges: totals.podChanges, addressChanges: totals.addressChanges }, limits);
  const report = buildReport({
    mode: options.mode ?? 'client',
    startedAt,
    endedAt,
    interrupted: stopped,
    target: { host: target.host, address: target.address, port: target.port },
    settings: {
      sessions: options.sessions,
      intervalMs: options.intervalMs,
      timeoutMs: options.timeoutMs,
      rampMs: options.rampMs,
      payloadSize: options.payloadSize,
      durationMs: options.durationMs ?? null,
      maxLossPercent: limits.maxLoss,
      maxPodChanges: limits.maxPodChanges,
      maxAddressChanges: limits.maxAddressChanges,
    },
    verdict,
    verdictNote: options.verdictNote,
    totals,
    rtt,
    scheduling: {
      lagP50Ms: round(scheduler.lag.percentile(50)),
      lagP99Ms: round(scheduler.lag.percentile(99)),
      lagMaxMs: scheduler.lag.count === 0 ? null : round(scheduler.lag.max),
      skipped: scheduler.skipped,
    },
    clientSocketDrops,
    sessions,
    localPorts: sockets.map((s) => s.localPort),
    identities: identities.all(),
    events: reportEvents,
    eventsOmitted,
    cluster: { watched: watch !== undefined, events: watch?.events().map(reportClusterEventOf) ?? [], attributions },
  });

  let reportError: string | undefined;
  if (options.reportFile !== undefined) {
    try {
      writeReport(options.reportFile, report);
    } catch (error) {
      reportError = `cannot write the report ${options.reportFile}: ${(error as Error).message}`;
    }
  }
  for (const line of summaryLines(report, style, reportError === undefined ? options.reportFile : undefined)) write(line);
  if (reportError !== undefined) write(style.red(reportError));
  eventLog?.info({ event: 'summary', totals: report.totals, verdict: report.verdict, pendingAtStop: report.pendingAtStop }, 'run ended');
  eventLog?.flush();
  return { report, verdict, exitCode: reportError !== undefined ? 1 : exitCodeOf(verdict), reportError };
}

function fmt(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function round(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 1000) / 1000;
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
