import t from 'tap';
import { runCli } from '../fixtures/cli.js';
import { VERSION } from '../../common/version.js';

t.test('affinity-tester --version prints the package version', async (t) => {
  const result = await runCli(['--version']);
  t.equal(result.code, 0);
  t.equal(result.stdout.trim(), VERSION);
});

t.test('affinity-tester with an unknown flag prints one line and exits 2', async (t) => {
  const result = await runCli(['--no-such-flag']);
  t.equal(result.code, 2);
  t.match(result.stderr, /^affinity-tester: error: unknown option '--no-such-flag'/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});
