// Teardown when a run does not end well: a process that built a bed and then exits, throws, is
// killed with SIGTERM, or gets SIGALRM (what tap sends a test file that times out) leaves no
// namespace, no server process and no temporary directory behind.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runPrefix } from './lib/bed-plan.js';
import { leftoverNamespaces, unsupportedReason } from './lib/test-bed.js';

/** Running, as opposed to gone or a zombie waiting for a parent that has exited to be reaped. */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const reason = await unsupportedReason();
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  type How = 'exit' | 'throw' | 'SIGTERM' | 'SIGALRM';
  /** Runs the fixture; resolves with its exit code, the pid of the server it started and the API stand-in's directory. */
  const abandon = async (how: How, prefix: string): Promise<{ code: number | null; serverPid: number; apiDir: string }> => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./lib/abandoned-bed.js', import.meta.url)), prefix, how],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (how.startsWith('SIG') && stdout.includes('\n')) child.kill(how as NodeJS.Signals);
    });
    child.stderr.resume();
    const [code] = (await once(child, 'exit')) as [number | null];
    const [pid = '', apiDir = ''] = stdout.trim().split(' ');
    return { code, serverPid: Number(pid), apiDir };
  };
  // The four run at once (each with its own prefix): most of their time is Node starting up.
  const cases = (['exit', 'throw', 'SIGTERM', 'SIGALRM'] as const).map((how, i) => ({ how, prefix: `${runPrefix(process.pid)}${i}-` }));
  const results = await Promise.all(cases.map(({ how, prefix }) => abandon(how, prefix)));
  cases.forEach(({ how, prefix }, i) => {
    t.test(`a bed abandoned by ${how.startsWith('SIG') ? how : `a process that ${how}s`} is removed with its server and the API stand-in's directory`, async (t) => {
      const { code, serverPid, apiDir } = results[i]!;
      t.ok(serverPid > 0, 'the bed was built and its server started');
      t.not(code, 0, 'the process failed');
      t.same(await leftoverNamespaces(prefix), [], 'no namespace is left');
      t.notOk(running(serverPid), 'the server process is gone');
      t.ok(apiDir !== '' && !existsSync(apiDir), `the stand-in's directory ${apiDir} is gone`);
    });
  });
}
