// The demo command: its help in-process, and a Ctrl-C, which only a real process can take.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../fixtures/cli.js';
import { runMain } from '../fixtures/run-main.js';

t.test('affinity-tester demo --help labels the balancer as a demo fixture', async (t) => {
  const result = await runMain(['demo', '--help']);
  t.equal(result.code, 0);
  t.match(result.stdout, /DEMO FIXTURE/);
  t.match(result.stdout, /exits 0/);
});

t.test('affinity-tester demo stopped by Ctrl-C prints the summary and still exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-signal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = await runCli(['demo', '--sessions', '2', '--ramp', '10ms', '--report', join(dir, 'report.json'), '--report-html', join(dir, 'report.html')], {
    env: { HOME: dir, KUBECONFIG: undefined },
    onSpawn: (child) => {
      let seen = '';
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString();
        if (!seen.includes(' established: ')) return;
        child.stdout?.off('data', onData);
        child.kill('SIGINT');
      };
      child.stdout?.on('data', onData);
    },
  });
  t.equal(result.code, 0, result.stderr);
  t.equal(result.signal, null);
  t.match(result.stdout, /Ctrl-C: stopping, writing the summary and report/);
  t.match(result.stdout, /\nSummary \(interrupted after /);
  t.match(result.stdout, `wrote ${join(dir, 'report.html')}: 3 charts`);
});
