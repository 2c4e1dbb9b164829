import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../common/errors.js';
import { runCollect } from '../../report/collect-command.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { DEMO_REPORT, SECOND_REPORT } from '../fixtures/reports.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

const JOB = 'clients';

async function fakeJob(logs: string[]): Promise<FakeKubeApi> {
  const api = await FakeKubeApi.start();
  api.put({ kind: 'Job', metadata: { name: JOB, namespace: 'testing' }, spec: { completions: logs.length }, status: { conditions: [{ type: 'Complete', status: 'True' }] } });
  logs.forEach((log, i) => {
    const name = `${JOB}-${i}`;
    api.put({ kind: 'Pod', metadata: { name, namespace: 'testing', labels: { 'batch.kubernetes.io/job-name': JOB }, annotations: { 'batch.kubernetes.io/job-completion-index': String(i) } } });
    api.setLog('testing', name, log);
  });
  return api;
}

const compact = (path: string): string => `${JSON.stringify(JSON.parse(readFileSync(path, 'utf8')))}\n`;

t.test('runCollect() merges the pods\' reports and writes the JSON and the page', async (t) => {
  const api = await fakeJob([compact(DEMO_REPORT), compact(SECOND_REPORT)]);
  t.teardown(() => api.close());
  const dir = makeTempDir('collect-command-');
  const json = join(dir, 'merged.json');
  const html = join(dir, 'merged.html');
  const result = await runCollect({ job: JOB, kubeconfig: api.kubeconfigPath, timeout: 10_000, report: json, html });
  t.same(result.lines, [
    `job ${JOB} complete: 2 reports from pod/${JOB}-0, pod/${JOB}-1`,
    `wrote ${json}`,
    `wrote ${html}: 3 charts, 28 breaks`,
    'FAIL: 14 pod changes (--max-pod-changes 0); 14 address changes (--max-address-changes 0)',
  ]);
  t.equal(result.passed, false);
  t.equal(JSON.parse(readFileSync(json, 'utf8')).totals.sent, 1934);
  t.match(readFileSync(html, 'utf8'), '<h2>Merged from 2 reports</h2>');
});

t.test('runCollect() of a pod whose report is damaged names the pod', async (t) => {
  const api = await fakeJob([compact(DEMO_REPORT).replace('"version":"0.1.0"', '"version":"0.0.1"')]);
  t.teardown(() => api.close());
  await t.rejects(
    runCollect({ job: JOB, kubeconfig: api.kubeconfigPath, timeout: 10_000, report: join(makeTempDir('collect-command-'), 'x.json') }),
    new UsageError(`pod/${JOB}-0: written by affinity-tester 0.0.1, this is 0.1.0: render it with that version`),
  );
});

t.test('runCollect() of a Job whose pods printed no report, or of no Job, rejects with a usage error or a KubeError not-found', async (t) => {
  const api = await fakeJob(['no report here\n']);
  t.teardown(() => api.close());
  await t.rejects(runCollect({ job: JOB, kubeconfig: api.kubeconfigPath, timeout: 10_000 }), new UsageError(`job ${JOB}: no pod printed a report in its log (index 0)`));
  await t.rejects(runCollect({ job: 'other', kubeconfig: api.kubeconfigPath, timeout: 10_000 }), { name: 'KubeError', kind: 'not-found', message: 'jobs.batch other not found in namespace testing' }, 'a KubeError, which the CLI turns into one line and exit 2');
});
