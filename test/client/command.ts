// `affinity-tester client` as a user runs it: exit codes, one-line errors, Ctrl-C, colour. Most
// cases run the command in-process (test/fixtures/client-command.ts); a few spawn the CLI for what
// only a process shows: the exit code and one line of a thrown error, a file-descriptor limit, Ctrl-C.
import t from 'tap';
import { CommanderError } from 'commander';
import { SetupError, UsageError } from '../../common/errors.js';
import { runClientCommand } from '../fixtures/client-command.js';
import { statusWanted } from '../../client/command.js';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { CLI_PATH, runCli } from '../fixtures/cli.js';
import { startStunServer } from '../../server/udp-server.js';
import type { ClientReport } from '../../client/report.js';
import { spawn } from 'node:child_process';
import { makeTempDir } from '../fixtures/temp-dir.js';

const dir = makeTempDir('client-cli-');
const home = makeTempDir('client-cli-home-');
/** No kubeconfig, no cluster: the watch stays off and nothing is discovered. */
const env = { HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', TARGET_ADDR: '', TARGET_PORT: '' };
const fast = ['--sessions', '3', '--ramp', '0', '--interval', '50ms', '--timeout', '1s', '--stats-interval', '300ms'];

async function stunServer(t: { teardown: (fn: () => unknown) => void }) {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-cli', logger: pino({ level: 'silent' }), summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  return server;
}

t.test('client --help explains every flag with its environment variable', async (t) => {
  const result = await runClientCommand(['--help'], env);
  t.equal(result.code, 0);
  for (const flag of ['--target', '--sessions', '--ramp', '--interval', '--timeout', '--payload-size', '--duration', '--stats-interval', '--events', '--report', '--report-html', '--max-loss', '--max-violations', '--max-stuck', '--stuck-after', '--max-pod-changes', '--max-address-changes', '--watch', '--namespace', '--service', '--family']) {
    t.match(result.stdout, flag);
  }
  for (const name of ['TARGET_ADDR', 'TARGET_PORT', 'SESSIONS', 'RAMP', 'INTERVAL', 'TIMEOUT', 'PAYLOAD_SIZE', 'DURATION', 'STATS_INTERVAL', 'EVENTS_FILE', 'REPORT_FILE', 'REPORT_HTML', 'MAX_LOSS', 'MAX_VIOLATIONS', 'MAX_STUCK', 'STUCK_AFTER', 'MAX_POD_CHANGES', 'MAX_ADDRESS_CHANGES', 'WATCH', 'NAMESPACE', 'SERVICE', 'DISCOVER_FAMILY']) {
    t.match(result.stdout, name);
  }
  t.match(result.stdout, /Exit codes/);
});

t.test('a run within the limits exits 0, prints established, stats and summary, and writes the report and events', async (t) => {
  const server = await stunServer(t);
  const report = join(dir, 'ok.json');
  const events = join(dir, 'ok.ndjson');
  const result = await runClientCommand(['--target', `127.0.0.1:${server.port}`, ...fast, '--duration', '1s', '--report', report, '--events', events], env);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, '');
  t.equal(result.stdout.match(/ established: pod-cli/g)?.length, 3);
  t.match(result.stdout, / stats  sessions 3\/3  sent /);
  t.match(result.stdout, /PASS/);
  t.notMatch(result.stdout, /\u001b\[/, 'NO_COLOR: no escape codes');
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  t.equal(parsed.totals.lost, 0);
  t.equal(parsed.interrupted, false);
  const log = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(log.filter((l) => l.event === 'established').length, 3);
  t.ok(log.some((l) => l.event === 'stats'));
  t.ok(log.every((l) => typeof l.msg === 'string' && !l.msg.includes('\u001b[')));
});

t.test('--target twice splits the sessions between the two targets and the report shows each', async (t) => {
  const v4 = await stunServer(t);
  const v6 = await startStunServer({ host: '::1', port: 0, podName: 'pod-cli-v6', logger: pino({ level: 'silent' }), summaryIntervalMs: 0 });
  t.teardown(() => v6.close());
  const report = join(dir, 'two.json');
  const result = await runClientCommand(['--target', `127.0.0.1:${v4.port}`, '--target', `[::1]:${v6.port}`, ...fast, '--duration', '500ms', '--report', report], env);
  t.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  t.same(parsed.targets!.map((x) => [x.endpoint, x.family, x.totals.sessions]), [
    [`127.0.0.1:${v4.port}`, 4, 2],
    [`[::1]:${v6.port}`, 6, 1],
  ]);
  t.same(parsed.sessions.map((s) => s.pod), ['pod-cli', 'pod-cli-v6', 'pod-cli']);
  t.match(result.stdout, `targets 127.0.0.1:${v4.port} and [::1]:${v6.port})`);
});

t.test('TARGET_ADDR and TARGET_PORT give the target, and settings come from the environment', async (t) => {
  const server = await stunServer(t);
  const report = join(dir, 'env.json');
  const result = await runClientCommand([], { ...env, TARGET_ADDR: '127.0.0.1', TARGET_PORT: String(server.port), SESSIONS: '2', RAMP: '0', INTERVAL: '100ms', DURATION: '500ms', REPORT_FILE: report });
  t.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  t.equal(parsed.settings.sessions, 2);
  t.equal(parsed.settings.intervalMs, 100);
  t.equal(parsed.target.port, server.port);
  t.strictSame(
    [parsed.settings.maxViolations, parsed.settings.maxStuck, parsed.settings.stuckAfterMs, parsed.settings.maxPodChanges, parsed.settings.maxAddressChanges],
    [0, 0, 5000, null, null],
    'violations and stuck sessions decide by default; the change limits are off',
  );
  const strict = await runClientCommand([], { ...env, TARGET_ADDR: '127.0.0.1', TARGET_PORT: String(server.port), SESSIONS: '1', RAMP: '0', INTERVAL: '100ms', DURATION: '300ms', REPORT_FILE: report, MAX_VIOLATIONS: '2', MAX_STUCK: '3', STUCK_AFTER: '7s', MAX_POD_CHANGES: '4', MAX_ADDRESS_CHANGES: '5' });
  t.equal(strict.code, 0, strict.stderr);
  const settings = (JSON.parse(readFileSync(report, 'utf8')) as ClientReport).settings;
  t.strictSame([settings.maxViolations, settings.maxStuck, settings.stuckAfterMs, settings.maxPodChanges, settings.maxAddressChanges], [2, 3, 7000, 4, 5]);
  t.match(strict.stdout, /PASS: within --max-loss 1%, --max-violations 2, --max-stuck 3, --max-pod-changes 4, --max-address-changes 5/);
});

t.test('a broken limit exits 1 and the summary says which', async (t) => {
  const silentPeer = createSocket('udp4');
  await new Promise<void>((r) => silentPeer.bind(0, '127.0.0.1', r));
  t.teardown(() => silentPeer.close());
  const result = await runClientCommand(['--target', `127.0.0.1:${silentPeer.address().port}`, ...fast, '--timeout', '200ms', '--duration', '600ms', '--report', join(dir, 'lost.json')], env);
  t.equal(result.code, 1);
  t.match(result.stdout, /FAIL: loss 100\.00% \(\d+ lost\) is above --max-loss 1%/);
});

t.test('usage and set-up errors are thrown as UsageError or SetupError with one line, or rejected by commander', async (t) => {
  const cases: [string[], RegExp, 'commander' | 'usage' | SetupError['kind']][] = [
    [['--no-such-flag'], /unknown option '--no-such-flag'/, 'commander'],
    [['--target', '127.0.0.1:1', '--interval', 'soon'], /--interval.*expected a duration/, 'commander'],
    [['--target', '127.0.0.1:1', '--sessions', '0'], /--sessions.*expected a whole number/, 'commander'],
    [['--target', '127.0.0.1:1', '--max-violations', '-1'], /--max-violations.*expected a whole number/, 'commander'],
    [['--target', '127.0.0.1:1', '--timeout', '5s', '--stuck-after', '5s'], /--stuck-after must be longer than --timeout/, 'usage'],
    [['--target', 'host:99999'], /--target: "99999" in "host:99999" is not a port/, 'usage'],
    [['--target', 'no-such-host.invalid:3478'], /cannot resolve the target host "no-such-host\.invalid"/, 'target-unresolved'],
    [[], /no target: give --target HOST:PORT/, 'usage'],
    [['--target', '127.0.0.1:1', '--family', 'both'], /^--family picks among discovered addresses; with a target given, give --target once per family instead$/, 'usage'],
    [['--target', '127.0.0.1:1', '--target', '127.0.0.1:1'], /^--target: 127\.0\.0\.1:1 is given twice; give one target per family$/, 'usage'],
    [['--target', '127.0.0.1:1', '--target', '[::1]:99999'], /--target: "99999" in "\[::1\]:99999" is not a port/, 'usage'],
    [['--target', '127.0.0.1:1', '--family', '5'], /argument '5' is invalid\. Allowed choices are 4, 6, any, both\./, 'commander'],
    [['--target', '127.0.0.1:1', '--report', '/nonexistent-dir/r.json'], /cannot write --report/, 'output-unwritable'],
    [['--target', '127.0.0.1:1', '--report', dir], /cannot write --report .*: it is a directory/, 'output-unwritable'],
    [['--target', '127.0.0.1:1', '--events', '/nonexistent-dir/e.ndjson'], /cannot write --events/, 'output-unwritable'],
  ];
  for (const [args, message, kind] of cases) {
    const result = await runClientCommand(args, env);
    t.equal(result.code, undefined, `${args.join(' ')}: no run, no exit code of its own`);
    if (kind === 'commander') {
      t.type(result.error, CommanderError);
      t.match(result.stderr, message);
      continue;
    }
    t.type(result.error, kind === 'usage' ? UsageError : SetupError);
    if (kind !== 'usage') t.equal((result.error as SetupError).kind, kind);
    t.match(result.error!.message, message);
    t.notMatch(result.error!.message, /\n/, 'one line');
  }
});

t.test('the CLI prints a usage error and a set-up error as one line each and exits 2, with no stack trace', async (t) => {
  const cases: [string[], RegExp][] = [
    [['client', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['client', '--target', 'host:99999'], /--target: "99999" in "host:99999" is not a port/],
    [['client', '--target', '127.0.0.1:1', '--report', '/nonexistent-dir/r.json'], /^affinity-tester: cannot write --report/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { env });
    t.equal(result.code, 2, args.join(' '));
    t.match(result.stderr, message);
    t.equal(result.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help')).length, 1, 'one line');
    t.notMatch(result.stderr, /\n\s+at /);
  }
});

t.test('too few file descriptors for the sessions exit 2 and say how to raise the limit', async (t) => {
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('/bin/sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" "${CLI_PATH}" client --target 127.0.0.1:9 --sessions 1000`], {
      env: { ...process.env, ...env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  t.equal(result.code, 2);
  // Node raises its soft limit to the hard limit at start-up, so the hard limit is what counts.
  t.match(result.stderr, /1000 sessions need about 1064 open files \(one UDP socket each\) but the limit is 256; the hard limit is 256: raise it/);
});

t.test('Ctrl-C mid-run prints the summary and writes the full report and its page; pending requests are not lost', async (t) => {
  const server = await stunServer(t);
  const report = join(dir, 'interrupted.json');
  const html = join(dir, 'interrupted.html');
  const result = await runCli(['client', '--target', `127.0.0.1:${server.port}`, ...fast, '--report', report, '--report-html', html], {
    env,
    onSpawn: (child) => {
      let sent = false;
      child.stdout!.on('data', (d: Buffer) => {
        if (!sent && d.toString().includes(' stats ')) {
          sent = true;
          child.kill('SIGINT');
        }
      });
    },
  });
  t.equal(result.code, 0);
  t.match(result.stdout, /Ctrl-C: stopping/);
  t.match(result.stdout, /Summary \(interrupted after/);
  t.ok(existsSync(report));
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  t.equal(parsed.interrupted, true);
  t.equal(parsed.totals.lost, 0);
  t.ok(parsed.totals.sent > 0);
  t.equal(parsed.totals.received + parsed.pendingAtStop, parsed.totals.sent);
  t.equal(parsed.timeline!.buckets.reduce((n, b) => n + b.sent, 0), parsed.totals.sent, 'the timeline runs up to the interruption');
  t.match(result.stdout, `wrote ${html}: 3 charts, 0 breaks`);
  t.equal(readFileSync(html, 'utf8').match(/<figure data-chart=/g)?.length, 3);
});

t.test('colour only when forced and never with NO_COLOR', async (t) => {
  const server = await stunServer(t);
  const args = ['client', '--target', `127.0.0.1:${server.port}`, ...fast, '--duration', '400ms', '--report', join(dir, 'colour.json')];
  const forced = await runClientCommand(args.slice(1), { ...env, NO_COLOR: '', FORCE_COLOR: '1' });
  t.match(forced.stdout, /\u001b\[/);
  const both = await runClientCommand(args.slice(1), { ...env, NO_COLOR: '1', FORCE_COLOR: '1' });
  t.notMatch(both.stdout, /\u001b\[/);
});

t.test('statusWanted(): --no-status wins, then STATUS=off|false|no|0, on by default', async (t) => {
  t.equal(statusWanted(false, {}), false);
  t.equal(statusWanted(true, { STATUS: 'off' }), false);
  t.equal(statusWanted(undefined, { STATUS: 'OFF' }), false);
  t.equal(statusWanted(undefined, { STATUS: 'on' }), true);
  t.equal(statusWanted(undefined, {}), true);
});

t.test('client --help names the live-view flags and their environment variables', async (t) => {
  const result = await runClientCommand(['--help'], env);
  for (const text of ['--no-status', 'STATUS=off', '--metrics-port', 'METRICS_PORT', '--metrics-host', 'METRICS_HOST']) t.match(result.stdout, text);
});
