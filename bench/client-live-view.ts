// Benchmark (not a test): what the status line and /metrics cost. One local server (its own
// process), then the same client run twice in a pseudo-terminal (script(1), so both pay for the
// terminal alike): with --no-status and no metrics, and with the status line and --metrics-port
// scraped every second as Prometheus would. The two runs of a round run side by side, at the same
// time: run one after the other, the same run's CPU varied by a third from one minute to the
// next on this virtual machine (9.2 s to 13.5 s), more than the cost being measured; side by
// side both meet the same machine. Each round gives one ratio; the verdict is their median, with
// the spread beside it; the sums of each side are printed too. The target is under 5% more.
//
//   node dist/bench/client-live-view.js [--sessions 10000] [--duration 30s] [--interval 1s] [--ramp 10s] [--rounds 6]
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
    /** Pairs of runs side by side; the median of their ratios is the figure. */
    rounds: { type: 'string', default: '6' },
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
  const extras: number[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    const cpu = { without: 0, with: 0 };
    const runs = await Promise.all([false, true].map(async (withLive) => ({ withLive, run: await clientRun(`127.0.0.1:${port}`, withLive) })));
    for (const { withLive, run } of runs) {
      const side = withLive ? live : plain;
      side.cpuSeconds += run.cpuSeconds;
      side.wallSeconds += run.wallSeconds;
      if (withLive) live.scrapes += run.scrapes;
      cpu[withLive ? 'with' : 'without'] = run.cpuSeconds;
      console.log(`  round ${round + 1} ${withLive ? 'with   ' : 'without'}: ${run.cpuSeconds.toFixed(2)} s CPU over ${run.wallSeconds.toFixed(1)} s wall`);
    }
    extras.push(percentMore(cpu.with, cpu.without));
    console.log(`  round ${round + 1} extra CPU: ${formatExtra(extras.at(-1)!)}`);
  }
  server.kill('SIGTERM');
  await waitForExit(server);

  const line = (name: string, r: { cpuSeconds: number; wallSeconds: number }) =>
    console.log(`${name} ${r.cpuSeconds.toFixed(2)} s CPU over ${r.wallSeconds.toFixed(1)} s wall = ${(r.cpuSeconds / r.wallSeconds).toFixed(3)} cores`);
  line('without status line and metrics:', plain);
  line(`with both (${live.scrapes} scrapes):   `, live);
  const sorted = [...extras].sort((a, b) => a - b);
  console.log(`extra CPU of the summed runs: ${formatExtra(percentMore(live.cpuSeconds, plain.cpuSeconds))}`);
  console.log(`extra CPU, median of ${sorted.length} rounds: ${formatExtra(median(sorted))} (rounds from ${formatExtra(sorted[0]!)} to ${formatExtra(sorted.at(-1)!)}; target under 5%)`);
}

function percentMore(withLive: number, without: number): number {
  return ((withLive - without) / without) * 100;
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function formatExtra(percent: number): string {
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
