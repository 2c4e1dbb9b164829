import t from 'tap';
import { podsSpec, renderCharts, renderSvg, rttSpec, timelineSpec } from '../../report/charts.js';
import { DEMO_REPORT, loadReport, marksOf } from '../fixtures/reports.js';

const report = loadReport(DEMO_REPORT);

t.test('renderCharts() of the recorded demo draws every chart with its marks and the 3 cluster events', async (t) => {
  const charts = (await renderCharts(report))!;
  t.same(marksOf(charts.timeline), {
    'line traffic_marks': 2, // sent, replies
    'rule cluster_events_marks': 6, // 3 events on each of the two panels
    'text cluster_labels_marks': 2, // pod-d added; pod-b terminating + removed share a label
    'line breaks_marks': 5, // lost requests, lost replies, unattributed, pod and address changes
  });
  t.same(marksOf(charts.pods), { 'area pods_marks': 4, 'rule cluster_events_marks': 3, 'text cluster_labels_marks': 2 }, 'one band per pod, a to d');
  t.same(marksOf(charts.rtt), { 'line rtt_marks': 2, 'rule cluster_events_marks': 3 });
  t.match(charts.timeline, '>pod-d: endpoint-added<');
  t.match(charts.timeline, 'pod-b: pod-terminating, endpoint-removed');
});

t.test('the specs carry the timeline as rates per second, so coarse buckets draw at the same height', async (t) => {
  const coarse = { ...report, timeline: { buckets: [{ ...report.timeline!.buckets[10]!, seconds: 10, sent: 600, received: 590 }] } };
  const layers = (timelineSpec(coarse) as unknown as { vconcat: { layer: { data: { values: { series: string; value: number }[] } }[] }[] }).vconcat[0]!.layer[0]!.data.values;
  t.same(
    layers.map((p) => [p.series, p.value]),
    [
      ['sent', 60],
      ['replies', 59],
    ],
  );
});

t.test('podsSpec() stacks the sessions of every pod, and rttSpec() leaves out seconds without replies', async (t) => {
  const quiet = { ...report, cluster: { ...report.cluster, events: [] }, timeline: { buckets: [{ ...report.timeline!.buckets[0]!, rttP50Ms: null, rttP99Ms: null }] } };
  t.equal((rttSpec(quiet) as unknown as { layer: { data: { values: unknown[] } }[] }).layer[0]!.data.values.length, 0);
  t.equal((podsSpec(quiet) as unknown as { layer: unknown[] }).layer.length, 1, 'no cluster events: no rule layer');
  const svg = await renderSvg(podsSpec(report));
  t.match(svg, /^<svg /);
});

t.test('renderCharts() of a report without a timeline draws nothing', async (t) => {
  const { timeline: _, ...old } = report;
  t.equal(await renderCharts(old), undefined);
});
