// The bin as a process: what only a real process shows (its exit status, a closed stdout). The
// command line itself is tested in-process (test/cli/main.ts, test/kube/commands.ts).
import t from 'tap';
import { runCli } from '../fixtures/cli.js';
import { FakeKubeApi } from '../fixtures/fake-kube-api.js';
import { service } from '../fixtures/kube-objects.js';
import { VERSION } from '../../common/version.js';

t.test('affinity-tester --version exits 0 and prints the version', async (t) => {
  const result = await runCli(['--version']);
  t.same(result, { code: 0, signal: null, stdout: `${VERSION}\n`, stderr: '' });
});

t.test('affinity-tester with an unknown flag exits 2 with one line and no stack', async (t) => {
  const result = await runCli(['--no-such-flag']);
  t.equal(result.code, 2);
  t.equal(result.stderr, "affinity-tester: error: unknown option '--no-such-flag'\n(run with --help for usage)\n");
});

t.test('affinity-tester discover whose stdout is closed still exits 0, without an EPIPE stack', async (t) => {
  const api = await FakeKubeApi.start();
  t.teardown(() => api.close());
  api.put(service('affinity-tester', { ingress: [{ ip: '203.0.113.7' }] }));
  const result = await runCli(['discover'], {
    env: { KUBECONFIG: api.kubeconfigPath, NAMESPACE: undefined, SERVICE: undefined },
    onSpawn: (child) => child.stdout?.destroy(),
  });
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, '');
});
