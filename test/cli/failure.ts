import t from 'tap';
import { CommanderError } from 'commander';
import { failureOf } from '../../cli/failure.js';
import { SetupError, UsageError } from '../../common/errors.js';
import { KubeError } from '../../kube/errors.js';

t.test('failureOf() a CommanderError prints nothing more: 0 for help and version, 2 otherwise', async (t) => {
  t.same(failureOf(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), false), { code: 0, text: '' });
  t.same(failureOf(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), false), { code: 2, text: '' });
});

t.test('failureOf() a UsageError or SetupError is one line and exit 2', async (t) => {
  t.same(failureOf(new UsageError('--interval must be at least 1ms'), true), { code: 2, text: 'affinity-tester: --interval must be at least 1ms\n' });
  t.same(failureOf(new SetupError('port-in-use', 'UDP port 3478 is in use'), false), { code: 2, text: 'affinity-tester: UDP port 3478 is in use\n' });
});

t.test('failureOf() a KubeError picks the exit code by kind: 2 for what the user can fix, 1 for a failed API call', async (t) => {
  t.same(failureOf(new KubeError('forbidden', 'forbidden: RBAC does not allow "get" on services'), false), {
    code: 2,
    text: 'affinity-tester: forbidden: RBAC does not allow "get" on services\n',
  });
  t.equal(failureOf(new KubeError('no-kubeconfig', 'no kubeconfig'), false).code, 2);
  t.equal(failureOf(new KubeError('no-ingress', 'no ingress'), false).code, 2);
  t.equal(failureOf(new KubeError('api', 'get services x failed (HTTP 500)'), false).code, 1);
});

t.test('failureOf() any other error is one line and exit 1, with the stack only when debugging', async (t) => {
  const error = new TypeError('x is not a function');
  t.same(failureOf(error, false), { code: 1, text: 'affinity-tester: x is not a function\n' });
  t.equal(failureOf(error, true).text, `affinity-tester: x is not a function\n${error.stack}\n`);
  t.same(failureOf('a string', false), { code: 1, text: 'affinity-tester: a string\n' });
});
