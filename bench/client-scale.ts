// Benchmark (not a test): the client with many sessions against a local server running in a
// separate process, as `npm run bench:client` (10,000 sessions at one request per second each for
// 60 s). Prints what was lost, the client's CPU (user+sys over wall time), its peak RSS and its
// scheduling lag (how late requests went out). Targets: 0 lost, under one core, under 300 MB.
// With --protocol tcp (`npm run bench:client-tcp`: 5,000 connections), each session is one TCP
// connection to the server (--tcp); it also prints the connections lost and reconnected and the
// host's TCP retransmissions, and 0 lost connections is a target too.
//
//   node dist/bench/client-scale.js [--sessions 10000] [--duration 60s] [--interval 1s] [--ramp 10s] [--protocol udp|tcp]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../common/version.js';
import { freePort, sample, waitForExit } from './local-processes.js';
import type { ClientReport } from '../client/report.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'affinity-tester.js');

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '60s' },
    interval: { type: 'string', default: '1s' },
    ramp: { type: 'string', default: '10s' },
    protocol: { type: 'string', default: 'udp' },
  },
});

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'client-scale-'));
  const report = join(dir, 'report.json');
  const tcp = values.protocol === 'tcp';
  const port = await freePort({ tcp });
  const server = spawn(process.execPath, [CLI, 'server', '--host', '127.0.0.1', '--port', String(port), '--pod-name', 'bench-pod', '--node-name', 'bench-node', '--http-port', 'off', ...(tcp ? ['--tcp'] : []), '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await new Promise((r) => setTimeout(r, 1000));
  const serverCpuStart = sample(server.pid!);

  console.log(`client: ${values.sessions} ${tcp ? 'TCP connections' : 'sessions'}, every ${values.interval}, ramp ${values.ramp}, for ${values.duration}, server in process ${server.pid}`);
  const started = performance.now();
  const client = spawn(
    process.execPath,
    [CLI, 'client', '--protocol', tcp ? 'tcp' : 'udp', '--target', `127.0.0.1:${port}`, '--sessions', values.sessions!, '--interval', values.interval!, '--ramp', values.ramp!, '--duration', values.duration!, '--stats-interval', '10s', '--report', report, '--no-watch'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let last: { cpuSeconds: number; peakRss: number } | undefined;
  // A process that has exited but not been reaped still has a stat but no VmHWM: keep the peak seen.
  const poll = setInterval(() => {
    const now = sample(client.pid!);
    if (now !== undefined) last = { cpuSeconds: now.cpuSeconds, peakRss: Math.max(now.peakRss, last?.peakRss ?? 0) };
  }, 250);
  const code = await waitForExit(client);
  clearInterval(poll);
  const wallSeconds = (performance.now() - started) / 1000;
  const serverCpuEnd = sample(server.pid!);
  server.kill('SIGTERM');
  await waitForExit(server);

  const result = JSON.parse(readFileSync(report, 'utf8')) as ClientReport;
  rmSync(dir, { recursive: true, force: true });
  const t = result.totals;
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  const cores = last ? last.cpuSeconds / wallSeconds : NaN;
  console.log(`exit code         ${code}`);
  console.log(`requests          ${t.sent} sent, ${t.received} received, ${t.lost} lost (${t.lossPercent}%), ${t.late} late, ${result.pendingAtStop} pending at stop`);
  const c = result.connections?.totals;
  if (c === undefined) {
    console.log(`client sockets    ${result.clientSocketDrops ?? 'unknown'} datagrams dropped by the kernel (receive buffers full)`);
  } else {
    const r = result.connections!.retransmissions;
    console.log(`connections       ${c.served} served, ${c.lost} lost (${c.lostBy.reset} reset, ${c.lostBy.closed} closed, ${c.lostBy.timeout} timed out, ${c.lostBy.error} errors), ${c.reconnected} reconnected, ${c.refused} refused`);
    console.log(`retransmissions   ${r === null ? 'unknown (no /proc/net/snmp)' : `${r.retransSegs} TCP segments on the host during the run`}`);
  }
  console.log(`rtt               p50 ${t.rtt.p50Ms} ms, p99 ${t.rtt.p99Ms} ms, max ${t.rtt.maxMs} ms`);
  console.log(`client CPU        ${last?.cpuSeconds.toFixed(1)} s over ${wallSeconds.toFixed(1)} s wall = ${cores.toFixed(2)} cores (sampled every 250 ms)`);
  console.log(`client peak RSS   ${last ? mb(last.peakRss) : '?'}`);
  console.log(
    `scheduling lag    p50 ${result.scheduling.lagP50Ms} ms, p99 ${result.scheduling.lagP99Ms} ms, max ${result.scheduling.lagMaxMs} ms, ${result.scheduling.skipped} skipped`,
  );
  if (serverCpuStart && serverCpuEnd) {
    console.log(`server CPU        ${(serverCpuEnd.cpuSeconds - serverCpuStart.cpuSeconds).toFixed(1)} s (separate process)`);
  }
  const ok = t.lost === 0 && (c?.lost ?? 0) === 0 && cores < 1 && (last?.peakRss ?? Infinity) < 300 * 1024 * 1024;
  console.log(ok ? `targets met: 0 lost${tcp ? ' requests and connections' : ''}, under one core, under 300 MB` : `targets NOT met (0 lost${tcp ? ' requests and connections' : ''}, < 1 core, < 300 MB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
