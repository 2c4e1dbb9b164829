// What each part of a finished run puts in the report, over real sessions, classifier and
// timeline, and fakes of the parts that would need sockets.
import t from 'tap';
import { BreakClassifier } from '../../client/break-classifier.js';
import { RttHistogram } from '../../client/rtt-histogram.js';
import { runReportOf, type FinishedRun } from '../../client/run-report.js';
import { RunTimeline } from '../../client/run-timeline.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { Session } from '../../client/session.js';
import { PeriodTracker } from '../../client/stats.js';
import type { ClusterWatch } from '../../common/cluster-events.js';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const target = { host: 'stun.local', address: '127.0.0.1', port: 3478, family: 4 as const, endpoint: '127.0.0.1:3478' };
const limits = { maxLoss: 1, maxViolations: 0, maxStuck: 0 };

function finishedRun(options: Partial<FinishedRun['options']> = {}): FinishedRun {
  const identities = new IdentityRegistry();
  const sessions = [1, 2].map((number) => new Session({ number, sessionId: number, timeoutMs: 1000, identities, emit: () => undefined, random: () => 7 }));
  sessions[0]!.send(T0);
  for (const session of sessions) session.finish(T0 + 2000);
  const classifier = new BreakClassifier({ sessions: 2, watched: options.watch !== undefined, settleMs: 2000, stuckAfterMs: 4000, emit: () => undefined });
  const timeline = new RunTimeline(T0, sessions, () => classifier.counts().total, () => T0);
  timeline.stop(T0 + 2000);
  const lag = new RttHistogram();
  lag.record(2);
  return {
    options: { target, sessions: 2, intervalMs: 1000, timeoutMs: 1000, rampMs: 0, payloadSize: 256, durationMs: 2000, limits, ...options },
    startedAt: T0,
    endedAt: T0 + 2000,
    interrupted: false,
    sessions,
    identities,
    classifier,
    output: { reportEvents: [], eventsOmitted: 0, attributions: [], breakFindings: [], breakGroups: [], findingsOmitted: 0 },
    tracker: new PeriodTracker(),
    scheduler: { lag, skipped: 3 },
    transport: { errors: { ECONNREFUSED: 1 } },
    transportEnd: { clientSocketDrops: 0, localPorts: [40000, 40001] },
    perTarget: { report: () => undefined },
    timeline,
  };
}

t.test('runReportOf() maps the options to the report\'s target and settings, with the classifier\'s stuck time', async (t) => {
  const { report } = runReportOf(finishedRun());
  t.equal(report.mode, 'client');
  t.equal(report.protocol, 'udp');
  t.same(report.target, { host: 'stun.local', address: '127.0.0.1', port: 3478 }, 'no family or endpoint in a single-target report');
  t.notOk('targets' in report);
  t.same(report.settings, {
    sessions: 2,
    intervalMs: 1000,
    timeoutMs: 1000,
    rampMs: 0,
    payloadSize: 256,
    durationMs: 2000,
    maxLossPercent: 1,
    maxViolations: 0,
    maxStuck: 0,
    stuckAfterMs: 4000,
    maxPodChanges: null,
    maxAddressChanges: null,
  });
  t.equal(report.durationMs, 2000);
});

t.test('runReportOf() judges the totals: one request lost of one settled fails --max-loss, in the verdict and the report', async (t) => {
  const { report, verdict } = runReportOf(finishedRun());
  t.equal(verdict.passed, false);
  t.same(report.verdict, { passed: false, broken: verdict.broken });
  t.match(report.totals, { sent: 1, lost: 1, lossPercent: 100 });
});

t.test('runReportOf() takes the scheduling, socket errors, socket drops and local ports from the scheduler and the transport', async (t) => {
  const { report } = runReportOf(finishedRun());
  t.same(report.scheduling, { lagP50Ms: 2, lagP99Ms: 2, lagMaxMs: 2, skipped: 3 });
  t.same(report.socketErrors, { ECONNREFUSED: 1 });
  t.equal(report.clientSocketDrops, 0);
  t.same(report.sessions.map((s) => s.localPort), [40000, 40001]);
});

t.test('runReportOf() of a demo run over TCP with a note and a watch records all four', async (t) => {
  const watch: ClusterWatch = {
    eventsBefore: () => [],
    events: () => [{ time: T0 + 500, kind: 'pod-deleted', subject: 'pod-a', text: 'pod pod-a deleted' }],
    podForIp: () => undefined,
    onEvent: () => undefined,
    close: async () => undefined,
  };
  const { report } = runReportOf(finishedRun({ mode: 'demo', protocol: 'tcp', verdictNote: 'the demo kills pod-a', watch }));
  t.equal(report.mode, 'demo');
  t.equal(report.protocol, 'tcp');
  t.equal(report.verdict.note, 'the demo kills pod-a');
  t.same(report.cluster, { watched: true, events: [{ time: new Date(T0 + 500).toISOString(), kind: 'pod-deleted', subject: 'pod-a', text: 'pod pod-a deleted' }], attributions: [] });
  t.equal(report.breaks?.watched, true);
});
