// The server on a single-stack IPv4 pod: in a network namespace with IPv6 disabled
// (net.ipv6.conf.all.disable_ipv6=1, no IPv6 address, not even ::1), the real server started
// with its default bind address still starts and answers STUN over IPv4.
//
// Which way it gets there depends on the kernel, not on the namespace: the sysctl removes IPv6
// addresses but not the AF_INET6 socket family, so binding `::` still succeeds and IPv4 arrives
// as v4-mapped addresses; only a kernel booted with ipv6.disable=1 (no /proc/net/if_inet6) lacks
// AF_INET6, and there the server falls back to 0.0.0.0. The test expects the one this kernel has.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runPrefix } from './lib/bed-plan.js';
import { inNamespace, must, runSyncQuietly } from './lib/command.js';
import type { ProbeAnswer } from './lib/probe.js';
import { CLI_PATH, unsupportedReason } from './lib/test-bed.js';

const reason = await unsupportedReason();
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  const namespace = `${runPrefix(process.pid)}v4only`;
  const removeNamespace = () => runSyncQuietly(['ip', 'netns', 'del', namespace]);
  process.once('exit', removeNamespace);
  await must(['ip', 'netns', 'add', namespace]);
  await must(['ip', '-n', namespace, 'link', 'set', 'lo', 'up']);
  await must(
    inNamespace(namespace, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.lo.disable_ipv6=1']),
  );

  const port = 3478;
  const [command, ...args] = inNamespace(namespace, [process.execPath, CLI_PATH, 'server', '--pod-name', 'pod-v4', '--node-name', 'node-a', '--port', String(port)]);
  const server = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  t.teardown(() => {
    server.kill('SIGKILL');
    removeNamespace();
  });
  let log = '';
  server.stdout.setEncoding('utf8').on('data', (d: string) => (log += d));
  server.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));

  const deadline = Date.now() + 15_000;
  while (!log.includes('"server started"') && server.exitCode === null && Date.now() < deadline) await sleep(50);
  const started = log.split('\n').find((line) => line.includes('"server started"'));

  t.test('the namespace has no IPv6 address at all', async (t) => {
    t.equal((await must(inNamespace(namespace, ['ip', '-6', 'addr', 'show']))).trim(), '');
  });

  t.test('the server starts with its default bind address', async (t) => {
    t.ok(started, 'the server logged "server started"', { output: log.trim().slice(-400) });
    const udp = (JSON.parse(started ?? '{}') as { udp?: { address: string; port: number } }).udp;
    const expected = existsSync('/proc/net/if_inet6') ? '::' : '0.0.0.0';
    t.same(udp, { address: expected, port }, `UDP bound to ${expected} (this kernel ${expected === '::' ? 'has' : 'lacks'} AF_INET6)`);
  });

  t.test('the server answers STUN over IPv4 with the IPv4 reflexive address', async (t) => {
    const out = await must(
      inNamespace(namespace, [process.execPath, fileURLToPath(new URL('./lib/probe.js', import.meta.url)), '127.0.0.1', String(port), '2', '2']),
    );
    const answers = JSON.parse(out) as ProbeAnswer[];
    t.equal(answers.length, 4, 'every request of every socket was answered');
    for (const answer of answers) t.same({ pod: answer.pod, mapped: answer.mapped }, { pod: 'pod-v4', mapped: `127.0.0.1:${answer.localPort}` });
  });
}
