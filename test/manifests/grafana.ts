// The Grafana dashboard against a real Prometheus (Debian's): it scrapes a local server and a
// short client run every second, and every query of every panel must return data. promtool
// checks both /metrics outputs.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import pino from 'pino';
import type { CommandIo } from '../../common/command-io.js';
import { monotonicClock } from '../../common/clock.js';
import { PACKAGE_ROOT } from '../../common/version.js';
import { startLiveView } from '../../client/live-view.js';
import { SKIPPED_DEFAULT_METRICS } from '../../client/metrics.js';
import { runClient } from '../../client/run.js';
import { resolveTarget } from '../../client/target.js';
import { startHttpSidePort } from '../../common/http.js';
import { createServerMetrics } from '../../server/metrics.js';
import { startStunServer } from '../../server/udp-server.js';

const DASHBOARD = join(PACKAGE_ROOT, 'manifests', 'grafana', 'affinity-tester-dashboard.json');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { name: string }[] } };

t.test('the dashboard imports as is: a datasource variable, every graph on it, every query on a metric we serve', async (t) => {
  t.strictSame(dashboard.templating.list.map((v) => v.name), ['datasource']);
  const graphs = dashboard.panels.filter((p) => p.type !== 'row');
  t.equal(graphs.length, 9);
  for (const panel of graphs) {
    t.ok(panel.targets!.length > 0, `${panel.title} has queries`);
    for (const { expr } of panel.targets!) t.match(expr, /affinity_tester_(client|server)_/);
  }
});

const which = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const skip = which('prometheus') && which('promtool') ? false : 'prometheus/promtool are not installed (apt-get install prometheus)';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * prom-client's default Node.js metrics name three gauges `_total`, which promtool's lint rejects
 * (its naming, not ours); everything else must pass. The client serves only the requests one
 * (client/metrics.ts SKIPPED_DEFAULT_METRICS).
 */
const PROM_CLIENT_TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const LINTED = { server: PROM_CLIENT_TOTAL_GAUGES, client: PROM_CLIENT_TOTAL_GAUGES.filter((name) => !SKIPPED_DEFAULT_METRICS.includes(name)) };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a real Prometheus scrapes a server and a client run; every panel query returns data; promtool accepts both /metrics', { skip }, async (t) => {
  const silent = pino({ level: 'silent' });
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-prom', logger: silent, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const serverHttp = await startHttpSidePort({ host: '127.0.0.1', port: 0, registry: createServerMetrics(server), healthy: () => true });
  t.teardown(() => serverHttp.close());
  const io: CommandIo = { out: () => undefined, err: () => undefined, env: {}, isTTY: false, setExitCode: () => undefined };
  const live = await startLiveView({ io, status: false, metrics: { host: '127.0.0.1', port: 0 }, clock: monotonicClock });
  t.teardown(() => live.close());

  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      `  - { job_name: server, static_configs: [ { targets: ["127.0.0.1:${serverHttp.port}"] } ] }`,
      `  - { job_name: client, static_configs: [ { targets: ["127.0.0.1:${live.metricsPort!.port}"] } ] }`,
      '',
    ].join('\n'),
  );
  const webPort = await freePort();
  const prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`], { stdio: 'ignore' });
  t.teardown(() => prometheus.kill());
  const query = async (expr: string): Promise<unknown[]> => {
    const response = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; data: { result: unknown[] } };
    return body.status === 'success' ? body.data.result : [];
  };

  await runClient({
    target: await resolveTarget({ host: '127.0.0.1', port: server.port }),
    sessions: 5,
    rampMs: 0,
    intervalMs: 50,
    timeoutMs: 500,
    payloadSize: 256,
    durationMs: 4000,
    statsIntervalMs: 10_000,
    limits: { maxLoss: 100, maxViolations: 0, maxStuck: 0, maxPodChanges: 100, maxAddressChanges: 100 },
    write: () => undefined,
    style: new Chalk({ level: 0 }),
    onReady: live.onReady,
  });
  // Prometheus has scraped the whole run once it holds a few samples of the client's counter.
  for (let i = 0; i < 50 && (await query('count_over_time(affinity_tester_client_requests_sent_total[1m]) >= 3')).length === 0; i++) await sleep(200);

  for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
    for (const { expr } of panel.targets!) {
      const result = await query(expr.replaceAll('$__rate_interval', '1m'));
      t.ok(result.length > 0, `${panel.title}: ${expr}`);
    }
  }
  for (const [name, port] of [
    ['server', serverHttp.port],
    ['client', live.metricsPort!.port],
  ] as const) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const whole = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const complaints = `${whole.stdout}${whole.stderr}`.split('\n').filter((line) => line !== '');
    t.strictSame(complaints.map((line) => line.split(' ')[0]), LINTED[name], `${name}: promtool's only complaints are prom-client's own gauges`);
    const ours = text
      .split('\n')
      .filter((line) => !PROM_CLIENT_TOTAL_GAUGES.some((family) => line.includes(family)))
      .join('\n');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' });
    t.equal(check.status, 0, `promtool check metrics accepts the ${name}'s without them: ${check.stdout}${check.stderr}`);
  }
});
