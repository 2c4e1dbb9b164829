// The gate on loopback: a healthy server passes within the first try; a relay that drops every
// fifth request fails every try and the gate exits 1 after the last.
import t from 'tap';
import { Chalk } from 'chalk';
import pino from 'pino';
import { runGate } from '../../client/gate-run.js';
import type { ClientRunOptions } from '../../client/run.js';
import { resolveTarget } from '../../client/target.js';
import { startStunServer } from '../../server/udp-server.js';
import { startTcpStunServer } from '../../server/tcp-server.js';
import { startLossyRelay } from '../fixtures/client-lossy-relay.js';

const plain = new Chalk({ level: 0 });
const silent = pino({ level: 'silent' });

async function runOptions(port: number, lines: string[]): Promise<ClientRunOptions> {
  return {
    target: await resolveTarget({ host: '127.0.0.1', port }),
    sessions: 3,
    rampMs: 20,
    intervalMs: 20,
    timeoutMs: 1000,
    payloadSize: 256,
    statsIntervalMs: 1000,
    limits: { maxLoss: 1, maxViolations: 0, maxStuck: 0, maxPodChanges: 0, maxAddressChanges: 0 },
    write: (line) => lines.push(line),
    style: plain,
  };
}

t.test('--until-stable on a healthy server (udp and tcp): stable on the first try, exit 0', async (t) => {
  const udp = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a', logger: silent, summaryIntervalMs: 0 });
  const tcp = await startTcpStunServer({ host: '127.0.0.1', port: udp.port, podName: 'pod-a' });
  t.teardown(async () => {
    await tcp.close();
    await udp.close();
  });
  const lines: string[] = [];
  const code = await runGate({ protocol: 'both', windowMs: 300, maxTries: 3, retryWaitMs: 10, run: await runOptions(udp.port, lines), style: plain });
  t.equal(code, 0);
  t.ok(lines.includes('stability gate: try 1/3: stable'));
  t.equal(lines.at(-1), 'STABLE: every session answered without loss or change for 300ms, after 1 try');
  t.equal(lines.filter((l) => l.startsWith('stability gate: try ') && l.endsWith('without loss or change')).length, 1, 'one try only');
});

t.test('--until-stable through a relay dropping every fifth request: not stable after each of its tries, exit 1', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a', logger: silent, summaryIntervalMs: 0 });
  const relay = await startLossyRelay({ serverPort: server.port, dropRequest: (sequence) => sequence % 5 === 4, dropReply: () => false });
  t.teardown(async () => {
    relay.close();
    await server.close();
  });
  const lines: string[] = [];
  const code = await runGate({ protocol: 'udp', windowMs: 300, maxTries: 2, retryWaitMs: 10, run: await runOptions(relay.port, lines), style: plain });
  t.equal(code, 1);
  const end = lines.slice(lines.indexOf('NOT STABLE after 2 tries of 2:'));
  t.equal(end.length, 3);
  t.match(end[1]!, /^ {2}try 1\/2: udp: \d+ requests lost$/);
  t.match(end[2]!, /^ {2}try 2\/2: udp: \d+ requests lost$/);
  t.equal(lines.filter((l) => l === 'stability gate: next try in 10ms').length, 1);
});
