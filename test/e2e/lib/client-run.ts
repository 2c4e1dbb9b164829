// Runs the real `affinity-tester client` inside the bed's client namespace, as a user would, and
// hands back its JSON report and events. While it runs, the events file (--events, NDJSON) tells
// when every session is established (or a connection is back), so that a scenario acts on the bed
// at a known moment. Also runs it as a stability gate, to its exit code.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReportBreaks } from '../../../client/break-records.js';
import { formatEndpoint } from '../../../common/ip-address.js';
import { makeTempDir, removeTempDir } from '../../fixtures/temp-dir.js';
import { CLI_PATH, type TestBed } from './test-bed.js';

/** What a client run needs of a bed: where the client lives, the Service's address, and a way to start a process there. */
export type ClientBed = Pick<TestBed, 'spawnIn'> & { plan: { clientNamespace: string; serviceIp: string; servicePort: number } };

export interface ClientSettings {
  sessions: number;
  intervalMs: number;
  timeoutMs: number;
  rampMs: number;
  durationMs: number;
  /** --protocol; udp when absent. */
  protocol?: 'udp' | 'tcp';
  /** --stuck-after (the client's default when absent). */
  stuckAfterMs?: number;
  /** With this, the client watches the cluster (--watch) through this kubeconfig; without, --no-watch. */
  watch?: ClusterAccess;
}

/** Where the client finds the Kubernetes API and which Service it watches there. */
export interface ClusterAccess {
  kubeconfig: string;
  namespace: string;
  service: string;
}

/** The stability gate's flags, for a client run with --until-stable instead of --duration. */
export interface GateSettings {
  windowMs: number;
  maxTries: number;
  retryWaitMs: number;
  protocol: 'udp' | 'tcp' | 'both';
}

/** The part of the client's report (issue 3's schema) the scenarios read. */
export interface ReportView {
  totals: {
    sessions: number;
    sent: number;
    received: number;
    lost: number;
    late: number;
    lostRequests: number;
    lostReplies: number;
    podChanges: number;
    addressChanges: number;
    lossPercent: number;
    longestOutageMs: number;
  };
  pendingAtStop?: number;
  pods: { pod: string; sessions: number; replies: number }[];
  sessions: {
    session: number;
    localPort: number | null;
    lost: number;
    lostRequests: number;
    lostReplies: number;
    podChanges: number;
    addressChanges: number;
    longestOutageMs: number;
    pod: string | null;
    mappedAddress: string | null;
  }[];
  events: { time: string; type: string; session: number; from?: string; to?: string; silentMs: number }[];
  /** The affinity verdict (issue 9) and what it was decided from; the scenarios before it need none of these. */
  verdict?: { passed: boolean; broken: string[] };
  breaks?: ReportBreaks;
  cluster?: { watched: boolean; events: { kind: string; subject: string; text: string }[] };
  /** Over TCP: the connections section (client/connection-report.ts). */
  connections?: {
    totals: { served: number; lost: number; reconnected: number; moved: number; refused: number; gaveUp: number };
    pods: { pod: string; lost: number; landed: number; movedIn: number }[];
    steps: { time: string; open: Record<string, number>; lost: Record<string, number>; reconnected: Record<string, number> }[];
    sessions: { session: number; lost: number; reconnected: number; moved: number }[];
  };
}

/** One line of the client's --events NDJSON: `event`, `at` (epoch ms) and the event's own fields. */
export interface LoggedEvent {
  event: string;
  at: number;
  session?: number;
  pod?: string | null;
  mapped?: string;
  end?: string;
  from?: string | null;
  to?: string;
  moved?: boolean;
}

export interface ClientResult {
  code: number | null;
  stdout: string;
  stderr: string;
  report: ReportView;
  /** Every line of the --events file. */
  events: LoggedEvent[];
}

/** The client's argument list for `settings` over `protocol` against `targets`, without the run's length and the output files. */
function clientArgs(settings: Omit<ClientSettings, 'durationMs' | 'protocol'>, protocol: GateSettings['protocol'] | undefined, targets: readonly string[]): string[] {
  return [
    process.execPath,
    CLI_PATH,
    'client',
    ...targets.flatMap((target) => ['--target', target]),
    '--sessions',
    String(settings.sessions),
    '--ramp',
    `${settings.rampMs}ms`,
    '--interval',
    `${settings.intervalMs}ms`,
    '--timeout',
    `${settings.timeoutMs}ms`,
    ...(protocol === undefined ? [] : ['--protocol', protocol]),
    '--stats-interval',
    '1s',
    ...(settings.stuckAfterMs === undefined ? [] : ['--stuck-after', `${settings.stuckAfterMs}ms`]),
    ...(settings.watch === undefined ? ['--no-watch'] : ['--watch', '--namespace', settings.watch.namespace, '--service', settings.watch.service]),
  ];
}

/** The whole lines of an NDJSON file; none when it is missing. Read while the client writes, the last may be cut. */
function readEvents(path: string): LoggedEvent[] {
  if (!existsSync(path)) return [];
  const events: LoggedEvent[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      if (line.trim() !== '') events.push(JSON.parse(line) as LoggedEvent);
    } catch {
      // A line the client is still writing.
    }
  }
  return events;
}

/**
 * Runs the client as a stability gate (--until-stable) in the bed's client namespace, to its
 * end: its exit code and what it printed. Its tries' reports go to a directory removed after.
 */
export function runGateClient(bed: ClientBed, settings: Omit<ClientSettings, 'durationMs' | 'protocol'>, gate: GateSettings): Promise<Omit<ClientResult, 'report' | 'events'>> {
  const plan = bed.plan;
  const directory = makeTempDir('affinity-e2e-gate-');
  const child = bed.spawnIn(plan.clientNamespace, [
    ...clientArgs(settings, gate.protocol, [formatEndpoint(plan.serviceIp, plan.servicePort)]),
    '--report',
    join(directory, 'report.json'),
    '--until-stable',
    `${gate.windowMs}ms`,
    '--max-tries',
    String(gate.maxTries),
    '--retry-wait',
    `${gate.retryWaitMs}ms`,
  ]);
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      removeTempDir(directory);
      resolve({ code, ...output });
    });
  });
}

/** How long the client's Node process may take to print its first line. */
const STARTUP_LIMIT_MS = 60_000;

/**
 * How long a run goes on at least after the scenario's act, whatever the act took: the requests
 * of three timeouts, so that every session's flow crosses what the act changed and any request
 * lost to it has timed out.
 */
const AFTER_ACT_TIMEOUTS = 3;

/** The client's own --duration is the run's duration plus this, a backstop: `end()` ends it. */
const BACKSTOP_MS = 60_000;

/** How a scenario runs the client. */
export interface RunOptions {
  /** A path prefix: the report and events are copied to `<keepAs>.report.json` and `.events.ndjson`. */
  keepAs?: string;
  /** One --target each (default the bed's Service). */
  targets?: readonly string[];
  /**
   * The scenario acts on the bed while the client runs: the run then lasts its duration and goes
   * on after the act (see `end()`). On a loaded machine an act can take seconds, and a run that
   * ended before the act's change reached the client would say nothing about it. Without an act,
   * the run ends at its duration and waits for the replies in flight, as a user's run does.
   */
  acts?: boolean;
}

export class ClientRun {
  private readonly directory: string;
  private readonly startedAt = Date.now();
  /** When the client printed its first line: its run's own clock starts there. */
  private firstLineAt: number | undefined;
  private stopped = false;
  private readonly acts: boolean;
  private readonly output = { stdout: '', stderr: '' };
  private readonly child: ChildProcess;
  readonly finished: Promise<ClientResult>;

  constructor(
    bed: ClientBed,
    readonly settings: ClientSettings,
    { keepAs, targets, acts = false }: RunOptions = {},
  ) {
    this.acts = acts;
    this.directory = makeTempDir('affinity-e2e-');
    const plan = bed.plan;
    const child = (this.child = bed.spawnIn(plan.clientNamespace, [
      ...clientArgs(settings, settings.protocol, targets ?? [formatEndpoint(plan.serviceIp, plan.servicePort)]),
      '--duration',
      `${settings.durationMs + (acts ? BACKSTOP_MS : 0)}ms`,
      '--report',
      this.reportPath,
      '--events',
      this.eventsPath,
    ], settings.watch === undefined ? {} : { KUBECONFIG: settings.watch.kubeconfig }));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.firstLineAt ??= Date.now();
      this.output.stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.output.stderr += d));
    this.finished = new Promise<ClientResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        try {
          const report = JSON.parse(readFileSync(this.reportPath, 'utf8')) as ReportView;
          const missing = missingReportFields(report);
          if (missing.length > 0) throw new Error(`the report lacks ${missing.join(', ')}`);
          resolve({ code, ...this.output, report, events: readEvents(this.eventsPath) });
        } catch (error) {
          reject(new Error(`the client exited ${code} without a readable report (${(error as Error).message}): ${this.output.stderr.trim().slice(-600)}`));
        } finally {
          if (keepAs !== undefined) {
            if (existsSync(this.reportPath)) copyFileSync(this.reportPath, `${keepAs}.report.json`);
            if (existsSync(this.eventsPath)) copyFileSync(this.eventsPath, `${keepAs}.events.ndjson`);
          }
          removeTempDir(this.directory);
        }
      });
    });
    // Kept from becoming an unhandled rejection while a scenario is still acting; awaited later.
    this.finished.catch(() => undefined);
  }

  get reportPath(): string {
    return join(this.directory, 'report.json');
  }

  get eventsPath(): string {
    return join(this.directory, 'events.ndjson');
  }

  /**
   * Ends the run now, as Ctrl-C would: the client stops sending, writes its report and exits.
   * For a scenario whose length depends on the bed (servers draining), not on a set duration.
   */
  stop(): void {
    this.stopped = true;
    this.child.kill('SIGINT');
  }

  /**
   * Called when the scenario's act is done: ends a run that acts (as Ctrl-C would) once it has
   * lasted its duration and gone on for AFTER_ACT_TIMEOUTS timeouts after now, and hands back its
   * result.
   */
  async end(): Promise<ClientResult> {
    if (this.acts && !this.stopped) {
      const ranMs = Date.now() - (this.firstLineAt ?? this.startedAt);
      await sleep(Math.max(AFTER_ACT_TIMEOUTS * this.settings.timeoutMs, this.settings.durationMs - ranMs));
      this.stop();
    }
    return this.finished;
  }

  /** Each session's first answer so far, from the events file: the pod and the address it saw. */
  establishedSessions(): Map<number, { pod: string; mapped: string | undefined }> {
    const out = new Map<number, { pod: string; mapped: string | undefined }>();
    for (const e of readEvents(this.eventsPath)) {
      if (e.event === 'established' && e.session !== undefined && typeof e.pod === 'string') out.set(e.session, { pod: e.pod, mapped: e.mapped });
    }
    return out;
  }

  /** Lines of `event` (`established`, `reconnected`, ...) in the events file so far. */
  count(event: string): number {
    return readEvents(this.eventsPath).filter((e) => e.event === event).length;
  }

  /** Resolves true once the events file has `count` lines of `event`, false after `limitMs`. */
  async waitForEvents(event: string, count: number, limitMs: number): Promise<boolean> {
    const deadline = Date.now() + limitMs;
    // Looks once more after the deadline: on a loaded machine the last sleep can overrun it by
    // seconds, and the events may have come meanwhile.
    for (;;) {
      if (this.count(event) >= count) return true;
      if (Date.now() >= deadline) return false;
      await sleep(50);
    }
  }

  /**
   * Resolves once every session is established; rejects `limitMs` after the client's first line.
   * Node itself may take seconds to start on a loaded machine, and the run's own clock starts
   * only with that line, so the start gets STARTUP_LIMIT_MS of its own. A client with a watch
   * gets twice the time: before its first session it loads @kubernetes/client-node (0.9 s of CPU
   * here, against 0.3 s for the client's own start) and lists four resources.
   */
  async waitEstablished(limitMs = this.settings.watch === undefined ? 8000 : 16_000): Promise<void> {
    const deadline = Date.now() + STARTUP_LIMIT_MS;
    while (this.output.stdout === '' && this.child.exitCode === null && Date.now() < deadline) await sleep(50);
    if (await this.waitForEvents('established', this.settings.sessions, limitMs)) return;
    const printed = this.output.stdout === '' ? 'the client printed nothing yet' : `the client printed: ${this.output.stdout.trim().slice(-300)}`;
    throw new Error(`only ${this.count('established')} of ${this.settings.sessions} sessions established within ${limitMs} ms (${printed}): ${this.output.stderr.trim().slice(-400)}`);
  }
}

/**
 * The fields the scenarios depend on that `report` lacks, so that a change of the client's
 * schema fails with its name instead of as a puzzling mismatch.
 */
export function missingReportFields(report: unknown): string[] {
  const missing: string[] = [];
  const r = report as Partial<ReportView> | null;
  const totals = r?.totals as Record<string, unknown> | undefined;
  for (const key of ['sessions', 'sent', 'lost', 'lostRequests', 'lostReplies', 'podChanges', 'addressChanges', 'lossPercent', 'longestOutageMs']) {
    if (typeof totals?.[key] !== 'number') missing.push(`totals.${key}`);
  }
  if (!Array.isArray(r?.pods)) missing.push('pods');
  if (!Array.isArray(r?.events)) missing.push('events');
  if (!Array.isArray(r?.sessions)) missing.push('sessions');
  else {
    const first = r.sessions[0] as Record<string, unknown> | undefined;
    for (const key of ['session', 'localPort', 'pod', 'mappedAddress', 'podChanges', 'addressChanges', 'lost', 'longestOutageMs']) {
      if (first !== undefined && !(key in first)) missing.push(`sessions[].${key}`);
    }
  }
  return missing;
}
