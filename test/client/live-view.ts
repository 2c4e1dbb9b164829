// The live views wired to a run: /metrics scraped while the server is stopped and restarted as
// another pod, and the status line in a real terminal (tmux), which only a process shows.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { Chalk } from 'chalk';
import pino from 'pino';
import type { CommandIo } from '../../common/command-io.js';
import { monotonicClock } from '../../common/clock.js';
import { TypedEmitter, type ClientEvents } from '../../client/events.js';
import { startLiveView } from '../../client/live-view.js';
import { RttHistogram } from '../../client/rtt-histogram.js';
import { CLEAR_LINE } from '../../client/status-painter.js';
import { runClient } from '../../client/run.js';
import { resolveTarget } from '../../client/target.js';
import { startStunServer, type RunningStunServer } from '../../server/udp-server.js';
import { CLI_PATH } from '../fixtures/cli.js';

const silent = pino({ level: 'silent' });

function pipedIo(out: string[]): CommandIo {
  return { out: (text) => out.push(text), err: (text) => out.push(text), env: {}, isTTY: false, setExitCode: () => undefined };
}

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('affinity_tester_client_')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('/metrics during a run whose server is replaced: the old pod\'s series goes, the counters end equal to the report', async (t) => {
  let server: RunningStunServer = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a', logger: silent, summaryIntervalMs: 0 });
  const port = server.port;
  t.teardown(() => server.close());
  const out: string[] = [];
  const live = await startLiveView({ io: pipedIo(out), status: true, metrics: { host: '127.0.0.1', port: 0 }, clock: monotonicClock });
  t.teardown(() => live.close());
  const metricsPort = live.metricsPort!.port;
  const scrapes: Map<string, number>[] = [];
  let midRun: Promise<void> | undefined;
  const result = await runClient({
    target: await resolveTarget({ host: '127.0.0.1', port }),
    sessions: 4,
    rampMs: 0,
    intervalMs: 50,
    timeoutMs: 200,
    payloadSize: 256,
    durationMs: 2000,
    statsIntervalMs: 10_000,
    limits: { maxLoss: 100, maxViolations: 0, maxStuck: 0, maxPodChanges: 100, maxAddressChanges: 100 },
    write: live.write,
    style: new Chalk({ level: 0 }),
    onReady: (run) => {
      live.onReady(run);
      midRun = (async () => {
        await sleep(600);
        scrapes.push(await scrape(metricsPort));
        await server.close();
        server = await startStunServer({ host: '127.0.0.1', port, podName: 'pod-b', logger: silent, summaryIntervalMs: 0 });
        await sleep(700);
        scrapes.push(await scrape(metricsPort));
      })();
    },
  });
  await midRun;
  const end = await scrape(metricsPort);
  t.equal(scrapes[0]!.get('affinity_tester_client_sessions_per_pod{pod="pod-a",node=""}'), 4);
  t.equal(scrapes[1]!.get('affinity_tester_client_sessions_per_pod{pod="pod-a",node=""}'), undefined, 'pod-a serves no session: no series');
  t.equal(scrapes[1]!.get('affinity_tester_client_sessions_per_pod{pod="pod-b",node=""}'), 4);
  const totals = result.report.totals;
  t.ok(totals.podChanges >= 4, 'every session moved to pod-b');
  t.strictSame(
    {
      sent: end.get('affinity_tester_client_requests_sent_total'),
      received: end.get('affinity_tester_client_replies_received_total'),
      lost: end.get('affinity_tester_client_requests_lost'),
      late: end.get('affinity_tester_client_replies_late_total'),
      duplicates: end.get('affinity_tester_client_replies_duplicate_total'),
      lostRequests: end.get('affinity_tester_client_requests_lost_requests_total'),
      lostReplies: end.get('affinity_tester_client_requests_lost_replies_total'),
      podChanges: sumOf(end, 'affinity_tester_client_pod_changes_total{'),
      addressChanges: sumOf(end, 'affinity_tester_client_address_changes_total{'),
      timedOut: end.get('affinity_tester_client_requests_timed_out_total'),
    },
    { ...pickTotals(totals), timedOut: totals.lost + totals.late },
  );
  t.equal(end.get('affinity_tester_client_rtt_seconds_count'), totals.received + totals.late);
  t.notMatch(out.join(''), /\u001b\[2K/, 'stdout is not a terminal: no status line');
});

/** The sum of every series of one metric (the changes are split by class). */
function sumOf(scrape: Map<string, number>, prefix: string): number {
  return [...scrape].filter(([series]) => series.startsWith(prefix)).reduce((sum, [, value]) => sum + value, 0);
}

function pickTotals(totals: { sent: number; received: number; lost: number; late: number; duplicates: number; lostRequests: number; lostReplies: number; podChanges: number; addressChanges: number }) {
  const { sent, received, lost, late, duplicates, lostRequests, lostReplies, podChanges, addressChanges } = totals;
  return { sent, received, lost, late, duplicates, lostRequests, lostReplies, podChanges, addressChanges };
}

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

t.test('the status line in a real terminal: at the bottom, within the width, gone after Ctrl-C with the summary below', { skip: hasTmux ? false : 'tmux is not installed (apt-get install tmux)' }, async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-tmux', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', `live-view-${process.pid}`, ...args], { encoding: 'utf8' });
  t.teardown(() => tmux('kill-server'));
  for (const width of [80, 160]) {
    const name = `w${width}`;
    const command = `NO_COLOR=1 KUBECONFIG= node ${CLI_PATH} client --target 127.0.0.1:${server.port} --no-watch --sessions 3 --ramp 0 --interval 100ms --report '' ; sleep 30`;
    t.equal(tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', '40', command).status, 0);
    const pane = () => tmux('capture-pane', '-p', '-t', name).stdout.replace(/\n+$/, '').split('\n');
    let rows = pane();
    for (let i = 0; i < 200 && !/sessions 3\/3/.test(rows.at(-1) ?? ''); i++) {
      await sleep(100);
      rows = pane();
    }
    const bottom = rows.at(-1)!;
    t.match(bottom, /^0:0\d \| sessions 3\/3 \| loss 0% \| changes exp 0 viol 0 addr 0 stuck 0 \| pods 1 \[a+/, `${width} columns: the bottom row is the status line`);
    t.ok(bottom.length <= width - 1, `${width} columns: it fits (${bottom.length})`);
    t.equal(rows.filter((row) => row.includes('sessions 3/3 |')).length, 1, 'drawn in place: one status row');
    tmux('send-keys', '-t', name, 'C-c');
    for (let i = 0; i < 200 && !pane().some((row) => row.startsWith('PASS')); i++) await sleep(100);
    rows = pane();
    t.ok(rows.some((row) => row.startsWith('Summary (interrupted')), 'the summary is there');
    t.match(rows.at(-1), /^PASS/, 'the summary ends the screen');
    t.equal(rows.filter((row) => row.includes('sessions 3/3 |')).length, 0, 'the status line is gone', { rows });
    tmux('kill-session', '-t', name);
  }
});

t.test('with stdout piped nothing of the status line appears', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-pipe', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const child = spawn(process.execPath, [CLI_PATH, 'client', '--target', `127.0.0.1:${server.port}`, '--no-watch', '--sessions', '2', '--ramp', '0', '--interval', '100ms', '--duration', '1s', '--report', ''], {
    env: { ...process.env, KUBECONFIG: '', NO_COLOR: '1' },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  t.equal(code, 0);
  t.match(stdout, /PASS/);
  t.notMatch(stdout, /\r|\u001b|left \|/, 'no carriage returns, escapes or status text');
});

t.test('on a terminal the status line is drawn at the width, redrawn on resize, under each line, and erased at close', async (t) => {
  const out: string[] = [];
  let resized: (() => void) | undefined;
  const io: CommandIo = {
    ...pipedIo(out),
    isTTY: true,
    columns: 40,
    onResize: (listener) => {
      resized = listener;
      return () => (resized = undefined);
    },
  };
  const live = await startLiveView({ io, status: true, durationMs: 60_000, clock: () => 5_000 });
  const events = new TypedEmitter<ClientEvents>(() => undefined);
  live.onReady({ sessions: [], sockets: [], undecodable: 0, rtt: new RttHistogram(), events, breaks: () => ({ expected: 2, violations: 1, inferred: 0, addressChanges: 3, samePodAddressChanges: 1, stuck: 1, stuckNow: 0, longestStuckMs: 0, undecided: 0 }) });
  live.write('an event');
  io.columns = 60;
  resized!();
  await live.close();
  t.equal(resized, undefined, 'the resize listener is removed');
  t.strictSame(out, [
    `${CLEAR_LINE}0:00 [..........] 1:00 left | sessions \r`,
    `${CLEAR_LINE}an event\n`,
    `${CLEAR_LINE}0:00 [..........] 1:00 left | sessions 0/0 | loss 0% | chan\r`,
    CLEAR_LINE,
  ]);
});

t.test('a --metrics-port in use is a set-up error naming the flag', async (t) => {
  const first = await startLiveView({ io: pipedIo([]), status: false, metrics: { host: '127.0.0.1', port: 0 }, clock: monotonicClock });
  t.teardown(() => first.close());
  await t.rejects(startLiveView({ io: pipedIo([]), status: false, metrics: { host: '127.0.0.1', port: first.metricsPort!.port }, clock: monotonicClock }), {
    name: 'SetupError',
    kind: 'port-in-use',
    message: new RegExp(`^--metrics-port: HTTP 127\\.0\\.0\\.1:${first.metricsPort!.port} is already in use`),
  });
});
