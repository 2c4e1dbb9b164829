// Several clients' reports as one run: sessions from all of them (numbered on, client after
// client), one timeline, per-pod figures summed, and the verdict taken again from the summed
// totals under the strictest limits. Reports that disagree (settings, target) or ran at
// different times still merge; the differences are listed in `merged.differences`. Pure.
import type { Attribution, ClientReport, ReportClusterEvent, ReportPod, ReportTotals } from '../client/report.js';
import { MAX_REPORT_EVENTS } from '../client/report.js';
import { lossPercent } from '../client/stats.js';
import { foldLater, maxOrNull, sum, TIMELINE_COUNTERS, weightedMedian, type ReportTimeline, type TimelineBucket } from '../client/timeline.js';
import { affinityVerdictOf, type AffinityLimits } from '../client/verdict.js';
import { formatDuration } from '../common/duration.js';

export interface NamedReport {
  file: string;
  report: ClientReport;
}

const COUNTED = ['sessions', 'sent', 'received', 'lost', 'late', 'duplicates', 'reordered', 'lostRequests', 'lostReplies', 'podChanges', 'addressChanges'] as const;

const worst = (reports: readonly ClientReport[], of: (r: ClientReport) => number | null): number | null =>
  reports.reduce<number | null>((m, r) => maxOrNull(m, of(r)), null);

const byTime = <T extends { time: string }>(a: T, b: T): number => Date.parse(a.time) - Date.parse(b.time);

/**
 * RTT percentiles cannot be added from summaries: p50 is the reply-weighted mean of the clients'
 * medians, p90 and p99 the worst client's (an upper bound), max the largest.
 */
function mergeTotals(reports: readonly ClientReport[], pending: number): ReportTotals {
  const totals = { ...reports[0]!.totals };
  for (const key of COUNTED) totals[key] = reports.reduce((n, r) => n + r.totals[key], 0);
  totals.lossPercent = Math.round(lossPercent(totals.lost, totals.sent, pending) * 1e6) / 1e6;
  totals.longestOutageMs = Math.max(...reports.map((r) => r.totals.longestOutageMs));
  let median = { received: 0, rttP50Ms: null as number | null };
  for (const r of reports) median = { received: median.received + r.totals.received, rttP50Ms: weightedMedian(median, { received: r.totals.received, rttP50Ms: r.totals.rtt.p50Ms }) };
  totals.rtt = {
    p50Ms: median.rttP50Ms,
    p90Ms: worst(reports, (r) => r.totals.rtt.p90Ms),
    p99Ms: worst(reports, (r) => r.totals.rtt.p99Ms),
    maxMs: worst(reports, (r) => r.totals.rtt.maxMs),
  };
  return totals;
}

function mergePods(reports: readonly ClientReport[]): ReportPod[] {
  const pods = new Map<string, ReportPod>();
  for (const pod of reports.flatMap((r) => r.pods)) {
    const key = `${pod.pod}/${pod.node ?? ''}/${pod.source ?? ''}`;
    const seen = pods.get(key);
    if (seen === undefined) pods.set(key, { ...pod });
    else {
      seen.sessions += pod.sessions;
      seen.replies += pod.replies;
    }
  }
  return [...pods.values()].sort((a, b) => a.pod.localeCompare(b.pod));
}

/**
 * One timeline from several: a client's buckets are first folded into the widest bucket any
 * client has at that time (a longer run has coarsened seconds that a shorter one still has),
 * then buckets of the same start add up, gauges included (sessions of different clients).
 *
 * A client with no bucket at a time inside its run (its timer fired late, so two ticks landed in
 * one second) still has its sessions: its last gauges (active, stuck, sessions per pod) carry over
 * that gap, or the merged picture would dip as if they had vanished. Its counters add nothing
 * there (what happened is already in its neighbouring buckets), and outside its run (before its
 * first bucket, after its last) it counts for nothing at all.
 */
export function mergeTimelines(timelines: readonly ReportTimeline[]): ReportTimeline | undefined {
  if (timelines.length === 0) return undefined;
  const widths = [...new Set(timelines.flatMap((t) => t.buckets.map((b) => b.seconds)))].sort((a, b) => b - a);
  const covered = new Map(widths.map((w) => [w, new Set<number>()]));
  for (const b of timelines.flatMap((t) => t.buckets)) covered.get(b.seconds)!.add(Date.parse(b.at));
  const widthAt = (start: number, own: number): { start: number; seconds: number } => {
    for (const w of widths) {
      if (w <= own) break;
      const aligned = Math.floor(start / (w * 1000)) * w * 1000;
      if (covered.get(w)!.has(aligned)) return { start: aligned, seconds: w };
    }
    return { start, seconds: own };
  };
  const clients = timelines.map((timeline) => {
    const own = new Map<number, TimelineBucket>();
    for (const b of timeline.buckets) {
      const target = widthAt(Date.parse(b.at), b.seconds);
      const seen = own.get(target.start);
      own.set(target.start, seen === undefined ? { ...b, at: new Date(target.start).toISOString(), seconds: target.seconds } : foldLater(seen, b, target.seconds));
    }
    const last = Math.max(...own.keys());
    return { own, end: own.size === 0 ? last : last + own.get(last)!.seconds * 1000 };
  });
  const starts = [...new Set(clients.flatMap(({ own }) => [...own.keys()]))].sort((a, b) => a - b);
  // Each client's latest bucket so far, walking the starts in order.
  const latest: (TimelineBucket | undefined)[] = clients.map(() => undefined);
  const buckets = starts.map((start) => {
    const here = clients.flatMap(({ own }, i) => {
      const bucket = own.get(start);
      if (bucket !== undefined) latest[i] = bucket;
      return bucket === undefined ? [] : [bucket];
    });
    const seconds = here[0]!.seconds;
    const gaps = clients.flatMap(({ own, end }, i) => {
      const last = latest[i];
      return last === undefined || own.has(start) || start >= end ? [] : [gaugesOf(last, start, seconds)];
    });
    return [...here, ...gaps].reduce(addConcurrent);
  });
  return { buckets };
}

/** A bucket with only `last`'s gauges, for a client's gap at `start`: no counts, no RTT. */
function gaugesOf(last: TimelineBucket, start: number, seconds: number): TimelineBucket {
  const { classes: _counted, ...gauges } = last;
  const gap: TimelineBucket = { ...gauges, at: new Date(start).toISOString(), seconds, rttP50Ms: null, rttP99Ms: null };
  for (const key of TIMELINE_COUNTERS) gap[key] = 0;
  return gap;
}

/** Two clients' buckets of the same time: everything adds up, RTT as in mergeTotals. */
function addConcurrent(a: TimelineBucket, b: TimelineBucket): TimelineBucket {
  const out: TimelineBucket = {
    ...a,
    active: a.active + b.active,
    pods: sum(a.pods, b.pods),
    rttP50Ms: weightedMedian(a, b),
    rttP99Ms: maxOrNull(a.rttP99Ms, b.rttP99Ms),
  };
  for (const key of TIMELINE_COUNTERS) out[key] = a[key] + b[key];
  if (a.classes !== undefined || b.classes !== undefined) out.classes = sum(a.classes ?? {}, b.classes ?? {});
  if (a.stuck !== undefined || b.stuck !== undefined) out.stuck = (a.stuck ?? 0) + (b.stuck ?? 0);
  return out;
}

function differencesOf(inputs: readonly NamedReport[]): string[] {
  const differences: string[] = [];
  const describe = (of: (r: ClientReport) => unknown): Map<string, string[]> => {
    const values = new Map<string, string[]>();
    for (const { file, report } of inputs) {
      const value = JSON.stringify(of(report));
      values.set(value, [...(values.get(value) ?? []), file]);
    }
    return values;
  };
  const listed = (values: Map<string, string[]>): string => [...values].map(([value, files]) => `${value} in ${files.join(', ')}`).join('; ');
  const target = describe((r) => `${r.target.host} ${r.target.address}:${r.target.port}`);
  if (target.size > 1) differences.push(`target: ${listed(target)}`);
  for (const key of Object.keys(inputs[0]!.report.settings) as (keyof ClientReport['settings'])[]) {
    if (key === 'sessions') continue; // Each client runs its own share: they add up, not differ.
    const values = describe((r) => r.settings[key]);
    if (values.size > 1) differences.push(`${key}: ${listed(values)}`);
  }
  const modes = describe((r) => r.mode);
  if (modes.size > 1) differences.push(`mode: ${listed(modes)}`);
  const starts = inputs.map((i) => Date.parse(i.report.startedAt));
  const ends = inputs.map((i) => Date.parse(i.report.endedAt));
  const commonFrom = Math.max(...starts);
  const commonTo = Math.min(...ends);
  if (commonTo > commonFrom) {
    if (Math.max(...starts) - Math.min(...starts) > 1000 || Math.max(...ends) - Math.min(...ends) > 1000) {
      differences.push(
        `time: the runs overlap for ${formatDuration(commonTo - commonFrom)} (${new Date(commonFrom).toISOString()} to ${new Date(commonTo).toISOString()}) of ${formatDuration(Math.max(...ends) - Math.min(...starts))}`,
      );
    }
  } else {
    differences.push(`time: the runs do not all overlap: ${inputs.map((i) => `${i.file} ${i.report.startedAt} to ${i.report.endedAt}`).join('; ')}`);
  }
  return differences;
}

export function mergeReports(inputs: readonly NamedReport[]): ClientReport {
  if (inputs.length === 1) return inputs[0]!.report;
  const reports = inputs.map((i) => i.report);
  const offsets: number[] = [];
  let next = 0;
  for (const r of reports) {
    offsets.push(next);
    next += Math.max(r.settings.sessions, ...r.sessions.map((s) => s.session), 0);
  }
  const renumber = (i: number, session: number | null): number | null => (session === null ? null : session + offsets[i]!);

  const pendingAtStop = reports.reduce((n, r) => n + r.pendingAtStop, 0);
  const totals = mergeTotals(reports, pendingAtStop);
  // The strictest of each limit; null (no limit) only where no report set one.
  const strictest = (of: (r: ClientReport) => number | null | undefined): number | undefined => {
    const set = reports.map(of).filter((v): v is number => typeof v === 'number');
    return set.length === 0 ? undefined : Math.min(...set);
  };
  const limits: AffinityLimits = {
    maxLoss: strictest((r) => r.settings.maxLossPercent)!,
    maxViolations: strictest((r) => r.settings.maxViolations) ?? 0,
    maxStuck: strictest((r) => r.settings.maxStuck) ?? 0,
    maxPodChanges: strictest((r) => r.settings.maxPodChanges),
    maxAddressChanges: strictest((r) => r.settings.maxAddressChanges),
  };
  const broke = (of: (b: NonNullable<ClientReport['breaks']>) => number): number => reports.reduce((n, r) => n + (r.breaks === undefined ? 0 : of(r.breaks)), 0);
  const verdict = affinityVerdictOf(
    { ...totals, violations: broke((b) => b.totals.violations), stuck: broke((b) => b.totals.stuck) },
    limits,
  );
  const notes = [...new Set(reports.map((r) => r.verdict.note).filter((n): n is string => n !== undefined))];

  const events = reports.flatMap((r, i) => r.events.map((e) => ({ ...e, session: renumber(i, e.session)! }))).sort(byTime);
  const clusterEvents = new Map<string, ReportClusterEvent>();
  for (const e of reports.flatMap((r) => r.cluster.events)) clusterEvents.set(`${e.time} ${e.kind} ${e.subject} ${e.text}`, e);
  const attributions: Attribution[] = reports.flatMap((r, i) => r.cluster.attributions.map((a) => ({ ...a, session: renumber(i, a.session) }))).sort(byTime);
  const drops = reports.map((r) => r.clientSocketDrops).filter((d): d is number => d !== null);
  const startedAt = Math.min(...reports.map((r) => Date.parse(r.startedAt)));
  const endedAt = Math.max(...reports.map((r) => Date.parse(r.endedAt)));
  const timeline = mergeTimelines(reports.flatMap((r) => (r.timeline === undefined ? [] : [r.timeline])));
  const differences = differencesOf(inputs);
  const withoutTimeline = inputs.filter((i) => i.report.timeline === undefined).map((i) => i.file);
  if (timeline !== undefined && withoutTimeline.length > 0) differences.push(`timeline: ${withoutTimeline.join(', ')} has none; the charts show the others only`);

  return {
    ...reports[0]!,
    mode: reports.every((r) => r.mode === 'demo') ? 'demo' : 'client',
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    durationMs: endedAt - startedAt,
    interrupted: reports.some((r) => r.interrupted),
    settings: {
      ...reports[0]!.settings,
      sessions: reports.reduce((n, r) => n + r.settings.sessions, 0),
      maxLossPercent: limits.maxLoss,
      maxViolations: limits.maxViolations,
      maxStuck: limits.maxStuck,
      maxPodChanges: limits.maxPodChanges ?? null,
      maxAddressChanges: limits.maxAddressChanges ?? null,
    },
    // Per-report break findings are not merged yet: the summary then shows the summed change counts.
    breaks: undefined,
    verdict: { passed: verdict.passed, broken: verdict.broken, ...(notes.length > 0 ? { note: notes.join(' ') } : {}) },
    totals,
    pendingAtStop,
    ignored: reports.reduce((n, r) => n + r.ignored, 0),
    scheduling: {
      lagP50Ms: worst(reports, (r) => r.scheduling.lagP50Ms),
      lagP99Ms: worst(reports, (r) => r.scheduling.lagP99Ms),
      lagMaxMs: worst(reports, (r) => r.scheduling.lagMaxMs),
      skipped: reports.reduce((n, r) => n + r.scheduling.skipped, 0),
    },
    clientSocketDrops: drops.length === 0 ? null : drops.reduce((n, d) => n + d, 0),
    socketErrors: sumByKey(reports.map((r) => r.socketErrors)),
    pods: mergePods(reports),
    sessions: reports.flatMap((r, i) => r.sessions.map((s) => ({ ...s, session: renumber(i, s.session)! }))),
    events: events.slice(0, MAX_REPORT_EVENTS),
    eventsOmitted: reports.reduce((n, r) => n + r.eventsOmitted, 0) + Math.max(0, events.length - MAX_REPORT_EVENTS),
    cluster: {
      watched: reports.some((r) => r.cluster.watched),
      events: [...clusterEvents.values()].sort(byTime),
      attributions,
    },
    ...(timeline === undefined ? {} : { timeline }),
    merged: {
      reports: inputs.map(({ file, report }, i) => ({ file, startedAt: report.startedAt, endedAt: report.endedAt, sessions: report.settings.sessions, firstSession: offsets[i]! + 1 })),
      differences,
    },
  };
}

/** Counts by key, summed over every report (socket errors by code). */
function sumByKey(counts: readonly Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const count of counts) for (const [key, n] of Object.entries(count)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}
