import t from 'tap';
import { collectJobReports, jobPodRecord, jobRecord, reportTextOf } from '../../kube/collect.js';
import { FakeKubeApi, type KubeObject } from '../fixtures/fake-kube-api.js';
import { kubeConfigOf } from '../fixtures/fake-kube-config.js';
import { DEMO_REPORT, SECOND_REPORT, loadReport } from '../fixtures/reports.js';

const JOB = 'affinity-tester-client';

function job(conditions: { type: string; status: string }[]): KubeObject {
  return { kind: 'Job', metadata: { name: JOB, namespace: 'testing' }, spec: { completions: 3, completionMode: 'Indexed' }, status: { conditions } };
}

function pod(name: string, index: number, created: string): KubeObject {
  return {
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'testing',
      labels: { 'batch.kubernetes.io/job-name': JOB },
      annotations: { 'batch.kubernetes.io/job-completion-index': String(index) },
      creationTimestamp: created,
    },
  };
}

/** A log as manifests/client/job.yaml writes it: the client's lines, then the report between markers. */
const logWith = (path: string): string =>
  `12:00:00.000 client: 30 sessions\nSummary ...\n--- affinity-tester report client-x ---\n${JSON.stringify(loadReport(path), null, 2)}\n\n--- end of report client-x (exit 1) ---\n`;

t.test('collectJobReports() waits for the Job, then reads the newest report of each index from the pod logs', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  api.put(job([]));
  api.put(pod('client-0-old', 0, '2026-11-29T21:00:00Z'));
  api.put(pod('client-0-new', 0, '2026-11-29T21:01:00Z'));
  api.put(pod('client-1', 1, '2026-11-29T21:00:00Z'));
  api.put(pod('client-2', 2, '2026-11-29T21:00:00Z'));
  api.setLog('testing', 'client-0-old', 'Error: crashed\n');
  api.setLog('testing', 'client-0-new', logWith(DEMO_REPORT));
  api.setLog('testing', 'client-1', logWith(SECOND_REPORT));
  api.setLog('testing', 'client-2', 'killed before the end\n');

  let now = 0;
  const waited: string[] = [];
  const collected = await collectJobReports({
    kubeConfig: kubeConfigOf(api),
    namespace: 'testing',
    job: JOB,
    timeoutMs: 60_000,
    pollMs: 2000,
    clock: () => now,
    // The Job finishes (Failed: a client whose verdict failed exits 1) after the second poll.
    sleep: async (ms) => {
      now += ms;
      if (now === 4000) api.update('jobs', 'testing', JOB, (j) => Object.assign(j, job([{ type: 'Failed', status: 'True' }])));
    },
    onWaiting: (j) => waited.push(`${j.name} ${j.completions}`),
  });
  t.same(waited, [`${JOB} 3`], 'told once');
  t.equal(now, 4000);
  t.same(collected.job, { name: JOB, completions: 3, finished: 'failed' });
  t.same(collected.reports.map((r) => [r.source, r.index]), [
    ['pod/client-0-new', 0],
    ['pod/client-1', 1],
  ]);
  t.equal(JSON.parse(collected.reports[0]!.text).totals.sent, 1758);
  t.same(collected.missing, ['index 2']);
  const logReads = api.requests.filter((r) => r.resource === 'pods/log').map((r) => r.name);
  t.same(logReads.sort(), ['client-0-new', 'client-1', 'client-2'], 'an index with a newer report is not read twice');
  t.same([...new Set(api.requests.map((r) => `${r.verb} ${r.resource}`))].sort(), ['get jobs', 'get pods/log', 'list pods'], 'only the permissions the RBAC grants');
});

t.test('collectJobReports() gives up after --timeout with a one-line KubeError', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  api.put(job([]));
  let now = 0;
  await t.rejects(
    collectJobReports({ kubeConfig: kubeConfigOf(api), namespace: 'testing', job: JOB, timeoutMs: 5000, pollMs: 2000, clock: () => now, sleep: async (ms) => void (now += ms) }),
    { name: 'KubeError', kind: 'timeout', message: `job ${JOB} in namespace testing has not finished after 5 s (--timeout)` },
  );
  await t.rejects(
    collectJobReports({ kubeConfig: kubeConfigOf(api), namespace: 'testing', job: 'nope', timeoutMs: 5000, pollMs: 2000, clock: () => now, sleep: async () => undefined }),
    { name: 'KubeError', kind: 'not-found' },
  );
});

t.test('reportTextOf() finds the last report between the markers of the Job, else the last report line', async (t) => {
  const block = (n: number): string => `--- affinity-tester report p ---\n{\n  "tool": "affinity-tester", "n": ${n}\n}\n--- end of report p (exit 0) ---`;
  t.equal(reportTextOf(`a\n${block(1)}\nb\n${block(2)}\n`), '{\n  "tool": "affinity-tester", "n": 2\n}');
  t.equal(reportTextOf('--- affinity-tester report p ---\n{"tool": "affinity-tester"'), '{"tool": "affinity-tester"', 'a cut log gives what it has (the parser then says it is damaged)');
  t.equal(reportTextOf('--- affinity-tester report p ---\n--- end of report p (exit 2) ---\n'), undefined, 'the client failed before writing a report');
  t.equal(reportTextOf('a\n{"tool":"affinity-tester","n":1}\nb\n{"tool":"affinity-tester","n":2}\nc\n'), '{"tool":"affinity-tester","n":2}');
  t.equal(reportTextOf('{"level":30}\n'), undefined);
});

t.test('jobRecord() and jobPodRecord() cut the API objects down', async (t) => {
  t.same(jobRecord({ metadata: { name: 'j' }, spec: {}, status: { conditions: [{ type: 'Complete', status: 'True' }] } }), { name: 'j', completions: 1, finished: 'complete' });
  t.same(jobRecord({ status: { conditions: [{ type: 'Failed', status: 'False' }] } }), { name: '', completions: 1, finished: undefined });
  t.same(jobPodRecord({ metadata: { name: 'p', annotations: { 'batch.kubernetes.io/job-completion-index': 'x' } } }), { name: 'p', index: undefined, createdAt: 0 });
});
