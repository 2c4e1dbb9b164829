// The report's charts as vega-lite specs built from the report alone (pure), and one call that
// compiles a spec and renders it to an SVG string with vega's headless view: no browser, no
// canvas, nothing fetched. Every chart marks the cluster events on its time axis.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ClientReport } from '../client/report.js';
import type { TimelineBucket } from '../client/timeline.js';

const WIDTH = 860;
const EVENT_LABELS_MAX = 30;

/** Names of the charts, as the HTML and the tests know them. */
export type ChartName = 'timeline' | 'pods' | 'rtt';

interface Point {
  /** Bucket start, epoch ms. */
  t: number;
  series: string;
  value: number;
}

const time = { field: 't', type: 'temporal', title: null, scale: { type: 'utc' }, axis: { format: '%H:%M:%S', labelOverlap: true } } as const;

function perSecond(buckets: readonly TimelineBucket[], series: Record<string, (b: TimelineBucket) => number>): Point[] {
  const points: Point[] = [];
  for (const b of buckets) {
    const t = Date.parse(b.at);
    for (const [name, of] of Object.entries(series)) points.push({ t, series: name, value: Math.round((of(b) / b.seconds) * 1000) / 1000 });
  }
  return points;
}

/**
 * The cluster events as vertical rules, and while they are few a label on each, cut to the
 * panel's height. Events within a second of each other share a label ("pod-b: pod-terminating,
 * endpoint-removed"), or their texts would print on top of each other.
 */
function clusterLayers(report: ClientReport, labelHeight?: number): object[] {
  const events = report.cluster.events.map((e) => ({ t: Date.parse(e.time), kind: e.kind, subject: e.subject, text: e.text }));
  if (events.length === 0) return [];
  const rule = {
    name: 'cluster_events',
    data: { values: events },
    mark: { type: 'rule', color: '#7b3294', strokeDash: [4, 3], strokeWidth: 1 },
    encoding: { x: { field: 't', type: 'temporal' }, tooltip: { field: 'text' } },
  };
  if (labelHeight === undefined || events.length > EVENT_LABELS_MAX) return [rule];
  const groups: { t: number; subjects: Map<string, string[]> }[] = [];
  for (const { t, kind, subject } of events) {
    let group = groups.at(-1);
    if (group === undefined || t - group.t >= 1000) groups.push((group = { t, subjects: new Map() }));
    group.subjects.set(subject, [...(group.subjects.get(subject) ?? []), kind]);
  }
  const labels = groups.map(({ t, subjects }) => ({ t, label: [...subjects].map(([subject, kinds]) => `${subject}: ${kinds.join(', ')}`).join('; ') }));
  const label = {
    name: 'cluster_labels',
    data: { values: labels },
    mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dx: -4, dy: -2, fontSize: 9, color: '#7b3294', y: 0, limit: labelHeight - 8 },
    encoding: { x: { field: 't', type: 'temporal' }, text: { field: 'label' } },
  };
  return [rule, label];
}

function lines(name: string, data: Point[], title: string, colours: Record<string, string>, mark: object = { type: 'line', interpolate: 'step-after' }): object {
  return {
    name,
    data: { values: data },
    mark,
    encoding: {
      x: time,
      y: { field: 'value', type: 'quantitative', title },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: Object.keys(colours), range: Object.values(colours) }, legend: { orient: 'top' } },
    },
  };
}

/** Sent and replies per second above; losses and breaks per second below; cluster events on both. */
export function timelineSpec(report: ClientReport): TopLevelSpec {
  const buckets = report.timeline?.buckets ?? [];
  const traffic = perSecond(buckets, { sent: (b) => b.sent, replies: (b) => b.received });
  const breaks = perSecond(buckets, {
    'lost requests': (b) => b.lostRequests,
    'lost replies': (b) => b.lostReplies,
    'lost (unattributed)': (b) => b.lost - b.lostRequests - b.lostReplies,
    'pod changes': (b) => b.podChanges,
    'address changes': (b) => b.addressChanges,
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Requests, losses and breaks per second',
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      { width: WIDTH, height: 180, layer: [lines('traffic', traffic, 'requests / s', { sent: '#4c78a8', replies: '#54a24b' }), ...clusterLayers(report, 180)] },
      {
        width: WIDTH,
        height: 140,
        layer: [
          lines('breaks', breaks, 'per second', {
            'lost requests': '#e45756',
            'lost replies': '#f58518',
            'lost (unattributed)': '#b279a2',
            'pod changes': '#000000',
            'address changes': '#9d755d',
          }),
          ...clusterLayers(report),
        ],
      },
    ],
  } as TopLevelSpec;
}

/** Sessions per pod over time, stacked: the picture of a rolling update or a scale-up. */
export function podsSpec(report: ClientReport): TopLevelSpec {
  const data: Point[] = [];
  for (const b of report.timeline?.buckets ?? []) {
    for (const [pod, sessions] of Object.entries(b.pods)) data.push({ t: Date.parse(b.at), series: pod, value: sessions });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Sessions per pod',
    width: WIDTH,
    height: 200,
    layer: [
      {
        name: 'pods',
        data: { values: data },
        // Every bucket lists only the pods serving in it; impute 0 so a pod's band starts and ends cleanly.
        transform: [{ impute: 'value', key: 't', groupby: ['series'], value: 0 }],
        mark: { type: 'area', interpolate: 'step-after' },
        encoding: {
          x: time,
          y: { field: 'value', type: 'quantitative', stack: 'zero', title: 'sessions' },
          color: { field: 'series', type: 'nominal', title: 'pod', legend: { orient: 'right' } },
          order: { field: 'series' },
        },
      },
      ...clusterLayers(report, 200),
    ],
  } as TopLevelSpec;
}

export function rttSpec(report: ClientReport): TopLevelSpec {
  const data: Point[] = [];
  for (const b of report.timeline?.buckets ?? []) {
    const t = Date.parse(b.at);
    if (b.rttP50Ms !== null) data.push({ t, series: 'p50', value: b.rttP50Ms });
    if (b.rttP99Ms !== null) data.push({ t, series: 'p99', value: b.rttP99Ms });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Round-trip time',
    width: WIDTH,
    height: 160,
    layer: [lines('rtt', data, 'ms', { p50: '#4c78a8', p99: '#e45756' }, { type: 'line', point: false }), ...clusterLayers(report)],
  } as TopLevelSpec;
}

export const CHART_SPECS: Record<ChartName, (report: ClientReport) => TopLevelSpec> = { timeline: timelineSpec, pods: podsSpec, rtt: rttSpec };

/** Compiles a vega-lite spec and renders it to SVG without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Every chart of a report, rendered; none when the report has no timeline (older reports). */
export async function renderCharts(report: ClientReport): Promise<Record<ChartName, string> | undefined> {
  if (report.timeline === undefined || report.timeline.buckets.length === 0) return undefined;
  return {
    timeline: await renderSvg(timelineSpec(report)),
    pods: await renderSvg(podsSpec(report)),
    rtt: await renderSvg(rttSpec(report)),
  };
}
