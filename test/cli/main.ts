import t from 'tap';
import { main } from '../../cli/main.js';
import type { CommandIo } from '../../common/command-io.js';
import { VERSION } from '../../common/version.js';
import { runMain } from '../fixtures/run-main.js';

t.test('main() of --version prints the package version and returns 0', async (t) => {
  t.same(await runMain(['--version']), { code: 0, stdout: `${VERSION}\n`, stderr: '' });
});

t.test('main() of --help lists every subcommand on stdout and returns 0', async (t) => {
  const result = await runMain(['--help']);
  t.equal(result.code, 0);
  for (const command of ['server', 'client', 'demo', 'deploy', 'discover', 'scaleup', 'scaledown', 'clean']) {
    t.match(result.stdout, new RegExp(`^  ${command} `, 'm'), `lists ${command}`);
  }
});

t.test('main() of an unknown flag writes one line and the hint to the io, and returns 2', async (t) => {
  t.same(await runMain(['--no-such-flag']), {
    code: 2,
    stdout: '',
    stderr: "affinity-tester: error: unknown option '--no-such-flag'\n(run with --help for usage)\n",
  });
});

t.test('main() of a kube error writes one line and returns its exit code', async (t) => {
  const env = { KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined, HOME: '/nonexistent' };
  const plain = await runMain(['scaledown', '--kubeconfig', '/nonexistent/config'], { env });
  t.same(plain, { code: 2, stdout: '', stderr: 'affinity-tester: no kubeconfig: /nonexistent/config does not exist\n' });
});

t.test("main() of a subcommand's --help writes to the io it is given, returns 0 and sets no exit code", async (t) => {
  const codes: number[] = [];
  let stdout = '';
  const io: CommandIo = { out: (text) => (stdout += text), err: () => undefined, env: { ...process.env, NO_COLOR: '1' }, isTTY: false, setExitCode: (code) => codes.push(code) };
  t.equal(await main(['node', 'affinity-tester', 'scaleup', '--help'], io), 0);
  t.match(stdout, /--cpu <quantity>/);
  t.same(codes, []);
});
