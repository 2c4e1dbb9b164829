import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import pino from 'pino';
import { breakComparisonLine, firstBreakOf, protocolFile, runProtocols } from '../../client/protocol-runs.js';
import type { ClientReport } from '../../client/report.js';
import { resolveTarget } from '../../client/target.js';
import { startStunServer } from '../../server/udp-server.js';
import { startTcpStunServer } from '../../server/tcp-server.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

const plain = new Chalk({ level: 0 });

t.test('protocolFile() puts the protocol before the extension, or at the end without one', async (t) => {
  t.equal(protocolFile('affinity-report.json', 'tcp'), 'affinity-report.tcp.json');
  t.equal(protocolFile('/tmp/a.b/report', 'udp'), '/tmp/a.b/report.udp');
  t.equal(protocolFile('.hidden', 'udp'), '.hidden.udp');
});

const reportWith = (events: string[], lostSteps: string[]): ClientReport =>
  ({
    events: events.map((time) => ({ time, type: 'pod-change', session: 1, silentMs: 0 })),
    connections: lostSteps.length === 0 ? undefined : { steps: lostSteps.map((time) => ({ time, open: {}, lost: { 'pod-a': 1 }, reconnected: {} })) },
  }) as unknown as ClientReport;

t.test('firstBreakOf() is the earliest of the first session event and the first step with a lost connection', async (t) => {
  t.equal(firstBreakOf(reportWith([], [])), undefined);
  t.equal(firstBreakOf(reportWith(['1970-01-01T00:00:02.000Z'], ['1970-01-01T00:00:01.500Z'])), 1500);
});

t.test('breakComparisonLine() says when each broke and how far apart, or who never broke', async (t) => {
  const at = (ms: number) => new Date(ms).toISOString();
  t.equal(breakComparisonLine(reportWith([], []), reportWith([], [])), 'udp and tcp: neither broke');
  t.equal(breakComparisonLine(reportWith([at(3120)], []), reportWith([], [at(3450)])), 'udp first broke at 00:00:03.120, tcp at 00:00:03.450 (330ms apart)');
  t.equal(breakComparisonLine(reportWith([at(3120)], []), reportWith([], [])), 'udp first broke at 00:00:03.120; tcp never broke');
});

t.test('--protocol both: UDP and TCP sessions against one port, two reports, every line prefixed', async (t) => {
  const silent = pino({ level: 'silent' });
  const udp = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-u', logger: silent, summaryIntervalMs: 0 });
  const tcp = await startTcpStunServer({ host: '127.0.0.1', port: udp.port, podName: 'pod-u' });
  t.teardown(async () => {
    await tcp.close();
    await udp.close();
  });
  const dir = makeTempDir('protocol-runs-');
  const lines: string[] = [];
  const runs = await runProtocols(
    'both',
    {
      target: await resolveTarget({ host: '127.0.0.1', port: udp.port }),
      sessions: 3,
      rampMs: 20,
      intervalMs: 20,
      timeoutMs: 500,
      payloadSize: 256,
      durationMs: 300,
      statsIntervalMs: 100,
      limits: { maxLoss: 1, maxViolations: 0, maxStuck: 0, maxPodChanges: 0, maxAddressChanges: 0 },
      reportFile: join(dir, 'r.json'),
      write: (line) => lines.push(line),
      style: plain,
    },
    plain,
  );
  t.same(runs.map((r) => r.protocol), ['udp', 'tcp']);
  const udpReport = JSON.parse(readFileSync(join(dir, 'r.udp.json'), 'utf8')) as ClientReport;
  const tcpReport = JSON.parse(readFileSync(join(dir, 'r.tcp.json'), 'utf8')) as ClientReport;
  t.equal(udpReport.protocol, 'udp');
  t.equal(tcpReport.protocol, 'tcp');
  t.equal(udpReport.connections, undefined);
  t.equal(tcpReport.connections?.totals.served, 3);
  t.equal(udpReport.totals.lost + tcpReport.totals.lost, 0);
  t.equal(tcp.counters.accepted, 3);
  t.ok(lines.filter((l) => l !== '').slice(0, -1).every((l) => l.startsWith('[udp] ') || l.startsWith('[tcp] ')), 'every run line says its protocol');
  t.equal(lines.at(-1), 'udp and tcp: neither broke');
});
