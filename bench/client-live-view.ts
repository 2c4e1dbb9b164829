// Benchmark (not a test): what the status line and /metrics cost. One local server (its own
// process), then the same client run twice in a pseudo-terminal (script(1), so both pay for the
// terminal alike): with --no-status and no metrics, then with the status line and --metrics-port
// scraped every second as Prometheus would. The two alternate for --rounds pairs; prints the CPU
// of each side summed and the difference; the target is under 5% more.
//
//   node dist/bench/client-live-view.js [--sessions 10000] [--duration 30s] [--interval 1s] [--ramp 10s] [--rounds 2]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../common/version.js';
import { freePort, sample, waitForExit } from './local-processes.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'affinity-tester.js');

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '30s' },
    interval: { type: 'string', default: '1s' },
    ramp: { type: 'string', default: '10s' },
    /** Pairs of runs, alternating, summed: the machine's own drift then falls on both sides. */
    rounds: { type: 'string', default: '2' },
  },
});

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The node process script(1) started (its only child). */
function childOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
    return children[0];
  } catch {
    return undefined;
  }
}

async function clientRun(target: string, live: boolean): Promise<{ cpuSeconds: number; wallSeconds: number; scrapes: number }> {
  const metricsPort = await freeTcpPort();
  const args = [CLI, 'client', '--target', target, '--sessions', values.sessions!, '--interval', values.interval!, '--ramp', values.ramp!, '--duration', values.duration!, '--report', '', '--no-watch', '--max-loss', '100', '--max-pod-changes', '1000000', '--max-address-changes', '1000000'];
  args.push(...(live ? ['--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1'] : ['--no-status']));
  const command = [process.execPath, ...args].map((a) => `'${a}'`).join(' ');
  const started = performance.now();
  const terminal = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1', COLUMNS: '160' } });
  let last: { cpuSeconds: number } | undefined;
  let scrapes = 0;
  const poll = setInterval(() => {
    const pid = childOf(terminal.pid!);
    if (pid !== undefined) last = sample(pid) ?? last;
  }, 250);
  const scraper = live
    ? setInterval(() => {
        fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          (response) => response.text().then(() => scrapes++),
          () => undefined,
        );
      }, 1000)
    : undefined;
  const code = await waitForExit(terminal);
  clearInterval(poll);
  clearInterval(scraper);
  if (code !== 0) throw new Error(`the client run ${live ? 'with' : 'without'} the live views exited ${code}`);
  return { cpuSeconds: last?.cpuSeconds ?? NaN, wallSeconds: (performance.now() - started) / 1000, scrapes };
}

async function main(): Promise<void> {
  const port = await freePort();
  const server = spawn(process.execPath, [CLI, 'server', '--host', '127.0.0.1', '--port', String(port), '--pod-name', 'bench-pod', '--http-port', 'off', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await new Promise((r) => setTimeout(r, 1000));
  console.log(`client: ${values.sessions} sessions, every ${values.interval}, ramp ${values.ramp}, for ${values.duration}, in a pseudo-terminal; server in process ${server.pid}`);
  const plain = { cpuSeconds: 0, wallSeconds: 0 };
  const live = { cpuSeconds: 0, wallSeconds: 0, scrapes: 0 };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [side, withLive] of [
      [plain, false],
      [live, true],
    ] as const) {
      const run = await clientRun(`127.0.0.1:${port}`, withLive);
      side.cpuSeconds += run.cpuSeconds;
      side.wallSeconds += run.wallSeconds;
      if (withLive) live.scrapes += run.scrapes;
      console.log(`  round ${round + 1} ${withLive ? 'with   ' : 'without'}: ${run.cpuSeconds.toFixed(2)} s CPU over ${run.wallSeconds.toFixed(1)} s wall`);
    }
  }
  server.kill('SIGTERM');
  await waitForExit(server);

  const line = (name: string, r: { cpuSeconds: number; wallSeconds: number }) =>
    console.log(`${name} ${r.cpuSeconds.toFixed(2)} s CPU over ${r.wallSeconds.toFixed(1)} s wall = ${(r.cpuSeconds / r.wallSeconds).toFixed(3)} cores`);
  line('without status line and metrics:', plain);
  line(`with both (${live.scrapes} scrapes):   `, live);
  const extra = ((live.cpuSeconds - plain.cpuSeconds) / plain.cpuSeconds) * 100;
  console.log(`extra CPU: ${extra.toFixed(1)}% (target under 5%)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
