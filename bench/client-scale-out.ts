// Benchmark (not a test): one run of many sessions split across several client processes against
// one local server, merged into one report as `affinity-tester report A.json B.json ...` does.
// Defaults: 100,000 sessions at one request every 5 s for 2 minutes, in as few processes as the
// open-file hard limit allows (one socket per session, plus the client's margin). Each process
// binds its own loopback address (127.0.0.2, 127.0.0.3, ...): the ephemeral port range holds
// about 28,000 sockets per address, and the server keeps 127.0.0.1 to itself.
//
// Prints each client's and the merged figures, the loss by cause (datagrams the kernel dropped on
// the clients' sockets, on the server's socket, and what neither explains), and whether the merged
// HTML page rendered: every chart an SVG with marks, and where Chromium is installed, the page
// opened headless with every chart drawn and nothing asked of the network. Exits 1 unless there is
// no unexplained loss and the page rendered.
//
//   node dist/bench/client-scale-out.js [--sessions 100000] [--clients N] [--interval 5s] [--duration 2m] [--ramp 20s] [--keep]
//
// --keep leaves the clients' reports and the merged page (merged.html) in the temporary folder it names.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DESCRIPTOR_MARGIN, descriptorLimit } from '../client/file-descriptors.js';
import type { ClientReport } from '../client/report.js';
import { kernelReceiveDrops, parseUdpDrops } from '../client/socket-drops.js';
import { PACKAGE_ROOT } from '../common/version.js';
import { freePort, waitForExit } from './local-processes.js';
import { CHROMIUM, openReportInChromium } from './report-in-chromium.js';
import { renderCharts } from '../report/charts.js';
import { renderHtml } from '../report/html.js';
import { mergeReports } from '../report/merge.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'affinity-tester.js');
const SERVER_ADDRESS = '127.0.0.1';
const CHARTS = ['timeline', 'pods', 'rtt'];

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '100000' },
    clients: { type: 'string' },
    interval: { type: 'string', default: '5s' },
    duration: { type: 'string', default: '2m' },
    ramp: { type: 'string', default: '20s' },
    keep: { type: 'boolean', default: false },
  },
});

/** Sockets one address can bind from the ephemeral range (Linux), or undefined elsewhere. */
function ephemeralPorts(): number | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return high! - low! + 1;
  } catch {
    return undefined;
  }
}

/** Why `shares` cannot run here, or undefined when they can. */
function wontFit(shares: readonly number[]): string | undefined {
  const largest = Math.max(...shares);
  const hard = descriptorLimit()?.hard;
  if (hard !== undefined && largest + DESCRIPTOR_MARGIN > hard) {
    const fewest = Math.ceil(shares.reduce((n, s) => n + s, 0) / (hard - DESCRIPTOR_MARGIN));
    return `${largest} sessions in one process need ${largest + DESCRIPTOR_MARGIN} open files but the hard limit is ${hard}: use --clients ${fewest} or more`;
  }
  const ports = ephemeralPorts();
  if (ports !== undefined && largest > ports) return `${largest} sessions in one process need ${largest} ephemeral ports on its address, but the range holds ${ports}`;
  if (shares.length > 253) return `${shares.length} clients need more loopback addresses than 127.0.0.2 to 127.0.0.254`;
  return undefined;
}

/** The server's socket is bound once it shows in /proc/net/udp (up to 10 s). */
async function serverBound(port: number): Promise<boolean> {
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (parseUdpDrops(readFileSync('/proc/net/udp', 'utf8')).some((s) => s.address === SERVER_ADDRESS && s.port === port)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Mark groups with something drawn in them (one pod's area is one). */
const svgMarks = (svg: string): number => (svg.match(/<g class="mark-[a-z]+ role-mark [^"]*"[^>]*>\s*<(path|line|text|rect)[ >]/g) ?? []).length;

async function main(): Promise<number> {
  const total = Number(values.sessions);
  const perProcess = (descriptorLimit()?.hard ?? 1024) - DESCRIPTOR_MARGIN;
  const clients = values.clients === undefined ? Math.ceil(total / perProcess) : Number(values.clients);
  if (!Number.isInteger(total) || total < 1 || !Number.isInteger(clients) || clients < 1 || clients > total) {
    console.error(`--sessions and --clients must be whole numbers, 1 <= clients <= sessions (got ${values.sessions}, ${values.clients})`);
    return 2;
  }
  const shares = Array.from({ length: clients }, (_, i) => Math.floor(total / clients) + (i < total % clients ? 1 : 0));
  const reason = wontFit(shares);
  if (reason !== undefined) {
    console.error(`cannot run here: ${reason}`);
    return 2;
  }
  const port = await freePort();
  const server = spawn(process.execPath, [CLI, 'server', '--host', SERVER_ADDRESS, '--port', String(port), '--pod-name', 'bench-pod', '--node-name', 'bench-node', '--http-port', 'off', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (!(await serverBound(port))) {
    server.kill('SIGTERM');
    console.error(`the server did not bind ${SERVER_ADDRESS}:${port} within 10 s`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'client-scale-out-'));
  const addresses = shares.map((_, i) => `127.0.0.${i + 2}`);
  console.log(`${total} sessions as ${clients} client processes of ${shares.join(', ')} (bound to ${addresses[0]}..${addresses.at(-1)}), every ${values.interval}, ramp ${values.ramp}, for ${values.duration}, server ${SERVER_ADDRESS}:${port}`);

  const files = shares.map((_, i) => join(dir, `client-${i}.json`));
  const started = Date.now();
  const codes = await Promise.all(
    shares.map((sessions, i) =>
      waitForExit(
        spawn(
          process.execPath,
          [CLI, 'client', '--target', `${SERVER_ADDRESS}:${port}`, '--bind-address', addresses[i]!, '--sessions', String(sessions), '--interval', values.interval!, '--ramp', values.ramp!, '--duration', values.duration!, '--stats-interval', '30s', '--report', files[i]!, '--no-watch'],
          { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } },
        ),
      ),
    ),
  );
  const wallSeconds = (Date.now() - started) / 1000;
  // Read before the server exits: the counter goes with its socket.
  const serverDrops = kernelReceiveDrops([{ address: SERVER_ADDRESS, port }]);
  server.kill('SIGTERM');
  await waitForExit(server);

  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    console.error(`no report from ${missing.join(', ')} (exit codes ${codes.join(', ')}); the others are in ${dir}`);
    return 1;
  }
  const reports = files.map((file) => ({ file, report: JSON.parse(readFileSync(file, 'utf8')) as ClientReport }));
  for (const [i, { report }] of reports.entries()) {
    const t = report.totals;
    const s = report.scheduling;
    console.log(
      `client ${i} ${addresses[i]}  exit ${codes[i]}, ${t.sessions} sessions, ${t.sent} sent, ${t.lost} lost, ${report.clientSocketDrops ?? '?'} dropped on its sockets, lag p99 ${s.lagP99Ms ?? '?'} ms, ${s.skipped} skipped`,
    );
  }
  const merged = mergeReports(reports);
  const t = merged.totals;
  const clientDrops = merged.clientSocketDrops;
  console.log(`merged             ${t.sessions} sessions in ${wallSeconds.toFixed(0)} s, ${t.sent} sent, ${t.received} received, ${t.lost} lost (${t.lossPercent}%: ${t.lostRequests} requests, ${t.lostReplies} replies), ${merged.pendingAtStop} pending at stop`);
  console.log(`                   ${t.podChanges} pod changes, ${t.addressChanges} address changes, ${merged.scheduling.skipped} requests skipped (client lag p99 ${merged.scheduling.lagP99Ms ?? '?'} ms), verdict ${merged.verdict.passed ? 'PASS' : `FAIL: ${merged.verdict.broken.join('; ')}`}`);
  console.log(`pods               ${merged.pods.map((p) => `${p.pod} ${p.sessions} sessions, ${p.replies} replies`).join('; ')}`);
  const unexplained = t.lost - (clientDrops ?? 0) - (serverDrops ?? 0);
  console.log(`loss by cause      ${t.lost} lost = ${clientDrops ?? 'unknown'} dropped by the kernel on the clients' sockets + ${serverDrops ?? 'unknown'} on the server's socket + ${unexplained} unexplained`);

  const renderStarted = Date.now();
  const charts = await renderCharts(merged);
  const html = renderHtml(merged, charts);
  const renderSeconds = (Date.now() - renderStarted) / 1000;
  const page = join(dir, 'merged.html');
  writeFileSync(page, html);
  const figures = [...html.matchAll(/<figure data-chart="([a-z]+)"[^>]*>\n(<svg.*?<\/svg>)\n<\/figure>/gs)].map(([, name, svg]) => ({ name: name!, marks: svgMarks(svg!) }));
  let rendered = figures.length === CHARTS.length && figures.every((f, i) => f.name === CHARTS[i] && f.marks >= 1);
  console.log(`merged HTML        ${(html.length / 1024).toFixed(0)} kB in ${renderSeconds.toFixed(1)} s, breaks table ${Math.max(0, (html.slice(html.indexOf('<h2>Breaks'), html.indexOf('<h2>Pods')).match(/<tr>/g) ?? []).length - 1)} rows; charts ${figures.map((f) => `${f.name} ${f.marks} marks`).join(', ') || 'none'}`);
  if (existsSync(CHROMIUM)) {
    const opened = await openReportInChromium(page);
    await opened.browser.close();
    const drawn = opened.charts.every((c) => c.width > 500 && c.height > 100 && c.marks >= 1) && opened.charts.length === CHARTS.length;
    const offline = opened.requests.length === 1;
    rendered &&= drawn && offline;
    console.log(
      `in Chromium        loaded in ${(opened.loadMs / 1000).toFixed(1)} s; ${opened.charts.map((c) => `${c.name} ${c.width}x${c.height}, ${c.marks} mark groups`).join('; ')}; ${opened.requests.length - 1} network requests`,
    );
  } else {
    console.log(`in Chromium        not checked: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  }
  const noUnexplainedLoss = unexplained <= 0 && clientDrops !== null && serverDrops !== undefined;
  console.log(`result             ${noUnexplainedLoss ? 'PASS' : 'FAIL'}: ${unexplained} lost that the kernel did not drop; ${rendered ? 'PASS' : 'FAIL'}: the merged HTML rendered`);
  if (values.keep) console.log(`kept               ${dir} (client-N.json, merged.html)`);
  else rmSync(dir, { recursive: true, force: true });
  return noUnexplainedLoss && rendered ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
