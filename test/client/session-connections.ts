// TCP sessions on loopback: the client (in-process runClient, --protocol tcp) against our TCP
// server, directly or through a relay that resets or goes silent. Each run ends when the figure
// under test is reached (the run is aborted then), so no test sleeps for a guessed time.
import t from 'tap';
import { Chalk } from 'chalk';
import { startTcpStunServer } from '../../server/tcp-server.js';
import { runClient, type ClientRunOptions, type RunningClient } from '../../client/run.js';
import { resolveTarget } from '../../client/target.js';
import { startTcpRelay } from '../fixtures/stun-tcp-relay.js';

const plain = new Chalk({ level: 0 });

/** Runs TCP sessions against `port`; `until(run)` is asked every 5 ms and ends the run when true. */
async function run(port: number, options: { sessions: number; until?: (run: RunningClient) => boolean; onReady?: (run: RunningClient) => void } & Partial<ClientRunOptions>) {
  const lines: string[] = [];
  const abort = new AbortController();
  let poll: NodeJS.Timeout | undefined;
  const { until, onReady, ...rest } = options;
  const result = await runClient({
    target: await resolveTarget({ host: '127.0.0.1', port }),
    rampMs: 20,
    intervalMs: 20,
    timeoutMs: 1000,
    payloadSize: 256,
    statsIntervalMs: 100,
    limits: { maxLoss: 1, maxViolations: 0, maxStuck: 0, maxPodChanges: 0, maxAddressChanges: 0 },
    write: (line) => lines.push(line),
    style: plain,
    protocol: 'tcp',
    reconnect: { enabled: true, maxAttempts: 1000, backoffMs: 10 },
    signal: abort.signal,
    onReady: (running) => {
      onReady?.(running);
      if (until) poll = setInterval(() => until(running) && abort.abort(), 5);
    },
    ...rest,
  });
  clearInterval(poll);
  return { report: result.report, lines };
}

const everyAnswered = (count: number) => (run: RunningClient) => run.sessions.every((s) => s.counters.received >= count);

t.test('a healthy server: every connection serves, none lost, each session on its own connection and port', async (t) => {
  const server = await startTcpStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a', nodeName: 'node-a' });
  t.teardown(() => server.close());
  const { report, lines } = await run(server.port, { sessions: 5, until: (running) => everyAnswered(5)(running) && running.connections!.table.steps.some((s) => s.open['pod-a'] === 5) });
  t.equal(report.protocol, 'tcp');
  t.equal(report.totals.lost, 0);
  t.equal(report.totals.addressChanges, 0);
  t.same(report.connections?.totals, { served: 5, lost: 0, lostBy: { reset: 0, closed: 0, timeout: 0, error: 0 }, refused: 0, reconnected: 0, moved: 0, downMs: 0, longestDownMs: 0, gaveUp: 0 });
  t.same(report.connections?.sessions, []);
  t.ok(report.sessions.every((s) => s.mappedAddress === `127.0.0.1:${s.localPort}`), 'the reflective address is each connection');
  t.equal(server.counters.accepted, 5);
  t.ok(lines.some((l) => / connections open pod-a 5 /.test(l)), 'the step line counts the connections per pod');
  t.match(lines.join('\n'), /connections +5 served, 0 lost/);
});

t.test('a server restart: every connection lost and reconnected, on the new pod, counted exactly', async (t) => {
  let server = await startTcpStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a' });
  const port = server.port;
  t.teardown(() => server.close());
  let restarted = false;
  const { report, lines } = await run(port, {
    sessions: 6,
    until: (running) => {
      if (!restarted && everyAnswered(2)(running)) {
        restarted = true;
        void server.close().then(async () => (server = await startTcpStunServer({ host: '127.0.0.1', port, podName: 'pod-b' })));
      }
      return running.connections!.states.every((s) => s.counters.reconnected === 1);
    },
  });
  const c = report.connections!;
  t.equal(c.totals.lost, 6);
  // A server that closes a connection with a request still unread in it sends RST, not FIN
  // (RFC 1122 section 4.2.2.13): closed or reset depends on whether a request was in flight.
  t.equal(c.totals.lostBy.closed + c.totals.lostBy.reset, 6);
  t.equal(c.totals.reconnected, 6);
  t.equal(c.totals.moved, 6, 'each new connection landed on the other pod');
  t.same(
    c.pods.map((p) => [p.pod, p.lost, p.landed, p.movedIn]),
    [
      ['pod-a', 6, 0, 0],
      ['pod-b', 0, 6, 6],
    ],
  );
  t.equal(report.totals.podChanges, 6);
  t.equal(report.totals.addressChanges, 0, 'a new connection has a new port by design: no address change');
  t.ok(c.sessions.every((s) => s.downMs > 0 && s.downMs === s.longestDownMs), 'each session was down once, for a measured time');
  t.equal(lines.filter((l) => / connection lost on pod-a: (closed by the server|reset by peer)$/.test(l)).length, 6);
  t.equal(lines.filter((l) => / reconnected after .* on another pod: pod-a -> pod-b$/.test(l)).length, 6);
});

t.test('one connection reset by peer: that one lost as reset and reconnected on the same pod, the others untouched', async (t) => {
  const server = await startTcpStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a' });
  const relay = await startTcpRelay(server.port);
  t.teardown(async () => {
    await relay.close();
    await server.close();
  });
  let reset = false;
  const { report } = await run(relay.port, {
    sessions: 4,
    until: (running) => {
      if (!reset && everyAnswered(2)(running)) {
        reset = true;
        relay.reset(0);
      }
      return running.connections!.states.some((s) => s.counters.reconnected === 1);
    },
  });
  const c = report.connections!;
  t.same(c.totals.lostBy, { reset: 1, closed: 0, timeout: 0, error: 0 });
  t.equal(c.totals.reconnected, 1);
  t.equal(c.totals.moved, 0);
  t.equal(c.sessions.length, 1, 'only the reset session lost its connection');
  t.same(c.pods.map((p) => [p.pod, p.lost, p.landed, p.movedIn]), [['pod-a', 1, 1, 0]]);
  t.equal(report.totals.podChanges, 0);
});

t.test('a server that stops answering but keeps the connection open: a timeout while open, then a reconnection once it answers', async (t) => {
  const server = await startTcpStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a' });
  const relay = await startTcpRelay(server.port);
  t.teardown(async () => {
    await relay.close();
    await server.close();
  });
  let phase: 'healthy' | 'silent' | 'back' = 'healthy';
  const { report, lines } = await run(relay.port, {
    sessions: 3,
    until: (running) => {
      const states = running.connections!.states;
      if (phase === 'healthy' && everyAnswered(2)(running)) {
        phase = 'silent';
        relay.paused = true;
      } else if (phase === 'silent' && states.every((s) => s.counters.lost === 1)) {
        phase = 'back';
        relay.paused = false;
      }
      return phase === 'back' && states.every((s) => s.counters.reconnected === 1);
    },
  });
  const c = report.connections!;
  t.same(c.totals.lostBy, { reset: 0, closed: 0, timeout: 3, error: 0 });
  t.equal(c.totals.reconnected, 3);
  t.ok(report.totals.lost >= 3, 'the unanswered requests count lost');
  t.equal(lines.filter((l) => / connection lost on pod-a: no answer within --timeout while open$/.test(l)).length, 3);
});

t.test('the connection bound: one over --max-connections is refused and counted, the others served', async (t) => {
  const server = await startTcpStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a', maxConnections: 3 });
  t.teardown(() => server.close());
  const { report, lines } = await run(server.port, {
    sessions: 4,
    reconnect: { enabled: false, maxAttempts: 1, backoffMs: 10 },
    until: (running) => running.sessions.filter((s) => s.counters.received >= 2).length === 3 && running.connections!.states.some((s) => s.phase === 'given-up'),
  });
  const c = report.connections!;
  t.equal(c.totals.served, 3);
  t.equal(c.totals.refused, 1);
  t.equal(c.totals.gaveUp, 1);
  t.equal(c.totals.lost, 0);
  t.equal(server.counters.refused['max-connections'], 1);
  t.equal(report.sessions.filter((s) => s.received === 0).length, 1, 'the refused session was never answered');
  t.match(lines.join('\n'), /1 attempts refused or never answered, 1 sessions gave up/);
  t.match(lines.join('\n'), / session \d+ stays down \(--no-reconnect\): no connection ever answered/, 'the session that gave up has a line of its own');
});

t.test('a server that answers with something other than STUN: the stream is ended and counted, never served', async (t) => {
  const { createServer } = await import('node:net');
  const server = createServer((socket) => socket.on('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const { report } = await run(port, { sessions: 2, until: (running) => running.connections!.states.every((s) => s.counters.refused >= 2) });
  const c = report.connections!;
  t.equal(c.totals.served, 0);
  t.equal(c.totals.lost, 0);
  t.ok(c.totals.refused >= 4);
  // Each attempt ends on the garbage that answers its first request; the run may stop between
  // the count and that attempt's close, which then is not counted as refused.
  t.ok([c.totals.refused, c.totals.refused + 1].includes(report.socketErrors['not-stun']!), 'one not-stun per attempt');
  t.equal(report.totals.received, 0);
});
