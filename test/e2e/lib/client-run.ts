// Runs the real `affinity-tester client` inside the bed's client namespace, as a user would, and
// hands back its JSON report. While it runs, the events file (--events, NDJSON) tells when every
// session is established, so that a scenario acts on the bed at a known moment.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReportBreaks } from '../../../client/break-records.js';
import { formatEndpoint } from '../../../common/ip-address.js';
import { CLI_PATH, type TestBed } from './test-bed.js';

/** What a client run needs of a bed: where the client lives, the Service's address, and a way to start a process there. */
export type ClientBed = Pick<TestBed, 'spawnIn'> & { plan: { clientNamespace: string; serviceIp: string; servicePort: number } };

export interface ClientSettings {
  sessions: number;
  intervalMs: number;
  timeoutMs: number;
  rampMs: number;
  durationMs: number;
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
}

export interface ClientResult {
  code: number | null;
  stdout: string;
  stderr: string;
  report: ReportView;
}

export class ClientRun {
  private readonly directory: string;
  private readonly startedAt = Date.now();
  private readonly output = { stdout: '', stderr: '' };
  readonly finished: Promise<ClientResult>;

  /**
   * `keepAs`: a path prefix; the report and events are copied to `<keepAs>.report.json` and
   * `.events.ndjson`. `targets`: one --target each (default the bed's Service).
   */
  constructor(
    bed: ClientBed,
    readonly settings: ClientSettings,
    keepAs?: string,
    targets?: readonly string[],
  ) {
    this.directory = mkdtempSync(join(tmpdir(), 'affinity-e2e-'));
    const plan = bed.plan;
    const watch = settings.watch;
    const argv = [
      process.execPath,
      CLI_PATH,
      'client',
      ...(targets ?? [formatEndpoint(plan.serviceIp, plan.servicePort)]).flatMap((target) => ['--target', target]),
      '--sessions',
      String(settings.sessions),
      '--ramp',
      `${settings.rampMs}ms`,
      '--interval',
      `${settings.intervalMs}ms`,
      '--timeout',
      `${settings.timeoutMs}ms`,
      '--duration',
      `${settings.durationMs}ms`,
      '--stats-interval',
      '1s',
      '--report',
      this.reportPath,
      '--events',
      this.eventsPath,
      ...(settings.stuckAfterMs === undefined ? [] : ['--stuck-after', `${settings.stuckAfterMs}ms`]),
      ...(watch === undefined ? ['--no-watch'] : ['--watch', '--namespace', watch.namespace, '--service', watch.service]),
    ];
    const child = bed.spawnIn(plan.clientNamespace, argv, watch === undefined ? {} : { KUBECONFIG: watch.kubeconfig });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.output.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.output.stderr += d));
    this.finished = new Promise<ClientResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        try {
          const report = JSON.parse(readFileSync(this.reportPath, 'utf8')) as ReportView;
          const missing = missingReportFields(report);
          if (missing.length > 0) throw new Error(`the report lacks ${missing.join(', ')}`);
          resolve({ code, ...this.output, report });
        } catch (error) {
          reject(new Error(`the client exited ${code} without a readable report (${(error as Error).message}): ${this.output.stderr.trim().slice(-600)}`));
        } finally {
          if (keepAs !== undefined) {
            if (existsSync(this.reportPath)) copyFileSync(this.reportPath, `${keepAs}.report.json`);
            if (existsSync(this.eventsPath)) copyFileSync(this.eventsPath, `${keepAs}.events.ndjson`);
          }
          rmSync(this.directory, { recursive: true, force: true });
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

  /** Milliseconds since the client was started. */
  elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  /** Sessions established so far, from the events file. */
  established(): number {
    let text: string;
    try {
      text = readFileSync(this.eventsPath, 'utf8');
    } catch {
      return 0;
    }
    let count = 0;
    for (const line of text.split('\n')) if (line.includes('"event":"established"')) count++;
    return count;
  }

  /**
   * Resolves once every session is established; rejects after `limitMs`. A client with a watch
   * gets twice the time: before its first session it loads @kubernetes/client-node (0.9 s of CPU
   * here, against 0.3 s for the client's own start) and lists four resources.
   */
  async waitEstablished(limitMs = this.settings.watch === undefined ? 8000 : 16_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    // Looks once more after the deadline: on a loaded machine the last sleep can overrun it by
    // seconds, and the sessions may have come up meanwhile.
    for (;;) {
      if (this.established() >= this.settings.sessions) return;
      if (Date.now() >= deadline) break;
      await sleep(50);
    }
    throw new Error(`only ${this.established()} of ${this.settings.sessions} sessions established within ${limitMs} ms: ${this.output.stderr.trim().slice(-400)}${this.output.stdout.trim().slice(-400)}`);
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
