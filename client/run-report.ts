// A finished run's report and verdict, from the parts run.ts hands over once every session is
// finished: what each part puts in the report (report.ts builds it, settings included).
import type { ClusterWatch } from '../common/cluster-events.js';
import type { BreakClassifier } from './break-classifier.js';
import { breaksReportOf } from './break-records.js';
import { buildReport, reportClusterEventOf, reportSchedulingOf, type ClientReport, type RunSettings } from './report.js';
import type { RunOutput } from './run-output.js';
import type { RunTimeline } from './run-timeline.js';
import type { RunTransport, TransportEnd } from './run-transport.js';
import type { Scheduler } from './scheduler.js';
import type { IdentityRegistry } from './serving-identity.js';
import type { Session } from './session.js';
import { rttSummary, totalsOf, type PeriodTracker } from './stats.js';
import type { ResolvedTarget } from './target.js';
import type { TargetFigures } from './target-groups.js';
import { runVerdictOf, type Verdict } from './verdict.js';

/** What the report records of the run's options. */
export interface ReportedOptions extends Omit<RunSettings, 'stuckAfterMs'> {
  mode?: 'client' | 'demo';
  target: ResolvedTarget;
  protocol?: 'udp' | 'tcp';
  verdictNote?: string;
  watch?: ClusterWatch;
}

export interface FinishedRun {
  options: ReportedOptions;
  startedAt: number;
  endedAt: number;
  interrupted: boolean;
  sessions: readonly Session[];
  identities: Pick<IdentityRegistry, 'all'>;
  classifier: BreakClassifier;
  output: Pick<RunOutput, 'reportEvents' | 'eventsOmitted' | 'attributions' | 'breakFindings' | 'breakGroups' | 'findingsOmitted'>;
  tracker: Pick<PeriodTracker, 'total'>;
  scheduler: Pick<Scheduler, 'lag' | 'skipped'>;
  transport: Pick<RunTransport, 'errors'>;
  transportEnd: TransportEnd;
  perTarget: Pick<TargetFigures, 'report'>;
  timeline: Pick<RunTimeline, 'toReport'>;
}

export function runReportOf(run: FinishedRun): { report: ClientReport; verdict: Verdict } {
  const { options, sessions, classifier, output } = run;
  const { target, watch } = options;
  const totals = totalsOf(sessions);
  const breaks = classifier.counts();
  const verdict = runVerdictOf(totals, breaks.total, options.limits);
  const targets = run.perTarget.report();
  const report = buildReport({
    mode: options.mode ?? 'client',
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    interrupted: run.interrupted,
    target: { host: target.host, address: target.address, port: target.port },
    ...(targets ? { targets } : {}),
    settings: { ...options, stuckAfterMs: classifier.stuckAfterMs },
    verdict,
    verdictNote: options.verdictNote,
    totals,
    rtt: rttSummary(run.tracker.total),
    scheduling: reportSchedulingOf(run.scheduler.lag, run.scheduler.skipped),
    ...run.transportEnd,
    socketErrors: run.transport.errors,
    sessions,
    identities: run.identities.all(),
    events: output.reportEvents,
    eventsOmitted: output.eventsOmitted,
    protocol: options.protocol ?? 'udp',
    cluster: { watched: watch !== undefined, events: watch?.events().map(reportClusterEventOf) ?? [], attributions: output.attributions },
    breaks: breaksReportOf(classifier, breaks, output),
    timeline: run.timeline.toReport(),
  });
  return { report, verdict };
}
