// Benchmark (not a test): one run of many sessions split across several client processes against
// one local server, merged into one report as `affinity-tester report A.json B.json ...` does.
// Defaults: 100,000 sessions at one request every 5 s for 2 minutes, in as few processes as the
// open-file hard limit allows (one socket per session). Prints each client's and the merged
// figures, the datagrams the kernel dropped on the server's and the clients' sockets, the loss
// the kernel does not explain, and whether the merged HTML page rendered its charts.
//
//   node dist/bench/client-scale-out.js [--sessions 100000] [--clients N] [--interval 5s] [--duration 2m] [--ramp 20s] [--keep]
//
// --keep leaves the clients' reports and the merged page (merged.html) in the temporary folder it names.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DESCRIPTOR_MARGIN, descriptorLimit } from '../client/file-descriptors.js';
import type { ClientReport } from '../client/report.js';
import { kernelReceiveDrops } from '../client/socket-drops.js';
import { PACKAGE_ROOT } from '../common/version.js';
import { freePort, waitForExit } from './local-processes.js';
import { renderCharts } from '../report/charts.js';
import { renderHtml } from '../report/html.js';
import { mergeReports } from '../report/merge.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'affinity-tester.js');

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


async function main(): Promise<void> {
  const total = Number(values.sessions);
  const perProcess = (descriptorLimit()?.hard ?? 1024) - DESCRIPTOR_MARGIN;
  const clients = values.clients === undefined ? Math.ceil(total / perProcess) : Number(values.clients);
  const shares = Array.from({ length: clients }, (_, i) => Math.floor(total / clients) + (i < total % clients ? 1 : 0));
  const dir = mkdtempSync(join(tmpdir(), 'client-scale-out-'));
  const port = await freePort();
  const server = spawn(process.execPath, [CLI, 'server', '--host', '127.0.0.1', '--port', String(port), '--pod-name', 'bench-pod', '--node-name', 'bench-node', '--http-port', 'off', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await new Promise((r) => setTimeout(r, 1000));
  console.log(`${total} sessions as ${clients} client processes of ${shares.join(', ')}, every ${values.interval}, ramp ${values.ramp}, for ${values.duration}`);

  const files = shares.map((_, i) => join(dir, `client-${i}.json`));
  const codes = await Promise.all(
    shares.map((sessions, i) =>
      waitForExit(
        spawn(
          process.execPath,
          [CLI, 'client', '--target', `127.0.0.1:${port}`, '--sessions', String(sessions), '--interval', values.interval!, '--ramp', values.ramp!, '--duration', values.duration!, '--stats-interval', '30s', '--report', files[i]!, '--no-watch', '--bind-address', `127.0.0.${i + 2}`],
          { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } },
        ),
      ),
    ),
  );
  const serverDrops = kernelReceiveDrops([{ address: '127.0.0.1', port }]);
  server.kill('SIGTERM');
  await waitForExit(server);

  const reports = files.map((file) => ({ file, report: JSON.parse(readFileSync(file, 'utf8')) as ClientReport }));
  for (const [i, { report }] of reports.entries()) {
    const t = report.totals;
    console.log(`client ${i}          exit ${codes[i]}, ${t.sessions} sessions, ${t.sent} sent, ${t.lost} lost, ${report.clientSocketDrops ?? '?'} dropped on its sockets`);
  }
  const merged = mergeReports(reports);
  const t = merged.totals;
  const clientDrops = merged.clientSocketDrops ?? 0;
  console.log(`merged            ${t.sessions} sessions, ${t.sent} sent, ${t.received} received, ${t.lost} lost (${t.lossPercent}%), ${merged.pendingAtStop} pending at stop`);
  console.log(`kernel drops      server socket ${serverDrops ?? 'unknown'}, client sockets ${clientDrops}`);
  console.log(`loss not from the kernel's drops: ${Math.max(0, t.lost - clientDrops - (serverDrops ?? 0))}`);
  console.log(`pods              ${merged.pods.map((p) => `${p.pod} ${p.sessions} sessions, ${p.replies} replies`).join('; ')}`);
  const charts = await renderCharts(merged);
  const html = renderHtml(merged, charts);
  const page = join(dir, 'merged.html');
  writeFileSync(page, html);
  console.log(`merged HTML       ${(html.length / 1024).toFixed(0)} kB, ${charts === undefined ? 'no timeline in these reports: no charts' : '3 charts'}`);
  if (values.keep) console.log(`kept              ${dir} (client-N.json, merged.html)`);
  else rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
