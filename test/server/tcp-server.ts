import t, { type Test } from 'tap';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { SOFTWARE } from '../../common/version.js';
import { startTcpStunServer, type RunningTcpStunServer } from '../../server/tcp-server.js';
import { connectTcpTestClient } from '../fixtures/stun-tcp-client.js';

function request(sequence: number, sessionId = 5): Buffer {
  return encodeBindingRequest({ transactionId: encodeTransactionId(sessionId, sequence) });
}

/** What a reply says that a test checks: mapped address and per-connection count. */
function summary(reply: Buffer | undefined): unknown {
  if (reply === undefined) return undefined;
  const decoded = decodeBindingResponse(reply);
  return decoded.ok ? { mapped: decoded.response.mappedAddress, count: decoded.response.sessionRequestCount } : decoded.reason;
}

/**
 * Waits for the server to see what a client did (a close travels through the kernel to another
 * socket's events): a condition checked on each turn of the event loop, never a fixed sleep.
 */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function start(t: Test, options: Partial<Parameters<typeof startTcpStunServer>[0]> = {}): Promise<RunningTcpStunServer> {
  const server = await startTcpStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-t', nodeName: 'node-t', ...options });
  t.teardown(() => server.close());
  return server;
}

for (const [family, host] of [
  [4, '127.0.0.1'],
  [6, '::1'],
] as const) {
  t.test(`startTcpStunServer() on ${host} answers several requests on one connection with counts 1, 2, 3 and the client's address`, async (t) => {
    const server = await start(t, { host });
    const client = await connectTcpTestClient(server.port, host);
    t.teardown(() => client.socket.destroy());
    for (let sequence = 0; sequence < 3; sequence++) {
      const sent = request(sequence);
      t.same(decodeBindingResponse((await client.ask(sent))!), {
        ok: true,
        response: {
          transactionId: sent.subarray(8, 20),
          mappedAddress: { family, address: host, port: client.localPort },
          software: SOFTWARE,
          podName: 'pod-t',
          nodeName: 'node-t',
          sessionRequestCount: sequence + 1,
        },
      });
    }
    t.match(server.counters, { accepted: 1, requests: 3, replies: 3 });
    t.equal(server.openConnections(), 1);
  });
}

t.test('startTcpStunServer() on :: takes IPv4 and IPv6 clients and reports an IPv4 client as IPv4', async (t) => {
  const server = await start(t, { host: '::' });
  for (const [family, host] of [
    [4, '127.0.0.1'],
    [6, '::1'],
  ] as const) {
    const client = await connectTcpTestClient(server.port, host);
    t.same(summary(await client.ask(request(0))), { mapped: { family, address: host, port: client.localPort }, count: 1 }, host);
    client.socket.destroy();
  }
});

t.test('a second connection from the same client starts counting from 1 again', async (t) => {
  const server = await start(t);
  const first = await connectTcpTestClient(server.port, '127.0.0.1');
  await first.ask(request(0));
  t.same(summary(await first.ask(request(1))), { mapped: { family: 4, address: '127.0.0.1', port: first.localPort }, count: 2 });
  first.socket.end();
  await first.closed;
  const second = await connectTcpTestClient(server.port, '127.0.0.1');
  t.teardown(() => second.socket.destroy());
  t.same(summary(await second.ask(request(2))), { mapped: { family: 4, address: '127.0.0.1', port: second.localPort }, count: 1 });
  await until(() => server.counters.closed['client-closed'] === 1);
  t.match(server.counters, { accepted: 2, replies: 3, closed: { 'client-closed': 1 } });
});

t.test('a client that resets its connection is counted as client-reset, once', async (t) => {
  const server = await start(t);
  const client = await connectTcpTestClient(server.port, '127.0.0.1');
  await client.ask(request(0));
  client.socket.resetAndDestroy();
  await until(() => server.openConnections() === 0);
  t.same(
    Object.entries(server.counters.closed).filter(([, count]) => count > 0),
    [['client-reset', 1]],
  );
});

t.test('a connection that sends garbage is closed unanswered and counted; another connection is undisturbed', async (t) => {
  const server = await start(t);
  const good = await connectTcpTestClient(server.port, '127.0.0.1');
  t.teardown(() => good.socket.destroy());
  await good.ask(request(0));
  const bad = await connectTcpTestClient(server.port, '127.0.0.1');
  t.equal(await bad.ask(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), undefined, 'no answer, the connection ends');
  await bad.closed;
  t.same(summary(await good.ask(request(1))), { mapped: { family: 4, address: '127.0.0.1', port: good.localPort }, count: 2 });
  t.match(server.counters, { accepted: 2, requests: 2, replies: 2, closed: { 'not-stun': 1, 'client-closed': 0, 'client-reset': 0 } });
  t.equal(server.openConnections(), 1);
});

t.test('--max-connections: one connection over the bound is reset and counted, the others are still answered', async (t) => {
  const server = await start(t, { maxConnections: 2 });
  const a = await connectTcpTestClient(server.port, '127.0.0.1');
  const b = await connectTcpTestClient(server.port, '127.0.0.1');
  t.teardown(() => b.socket.destroy());
  await a.ask(request(0));
  await b.ask(request(0));
  const over = await connectTcpTestClient(server.port, '127.0.0.1');
  t.equal(await over.closed, 'ECONNRESET', 'the kernel completed the handshake; the server resets it');
  t.match(server.counters, { accepted: 2, refused: { 'max-connections': 1 } });
  t.same(summary(await b.ask(request(1))), { mapped: { family: 4, address: '127.0.0.1', port: b.localPort }, count: 2 });
  a.socket.end();
  await until(() => server.openConnections() === 1);
  const again = await connectTcpTestClient(server.port, '127.0.0.1');
  t.teardown(() => again.socket.destroy());
  t.same(summary(await again.ask(request(0))), { mapped: { family: 4, address: '127.0.0.1', port: again.localPort }, count: 1 });
  t.match(server.counters, { accepted: 3, refused: { 'max-connections': 1 } });
});

t.test('closeIdle() closes a connection exactly when it has had no message for --tcp-idle (time passed in)', async (t) => {
  let now = 1_000_000;
  const server = await start(t, { idleMs: 300, clock: () => now, sweepIntervalMs: 0 });
  const client = await connectTcpTestClient(server.port, '127.0.0.1');
  await until(() => server.openConnections() === 1);
  now += 299;
  t.equal(server.closeIdle(), 0);
  const mapped = { family: 4, address: '127.0.0.1', port: client.localPort };
  t.same(summary(await client.ask(request(0))), { mapped, count: 1 }, 'answered at 299 ms, which restarts the idle time');
  now += 299;
  t.equal(server.closeIdle(), 0);
  now += 1;
  t.equal(server.closeIdle(), 1);
  t.equal(await client.closed, 'closed', 'an orderly close, not a reset');
  t.match(server.counters, { closed: { idle: 1, 'client-closed': 0 } });
});

t.test('an idle connection is closed by the server on its own timer, and counted once', async (t) => {
  const server = await start(t, { idleMs: 100 });
  const client = await connectTcpTestClient(server.port, '127.0.0.1');
  await client.ask(request(0));
  t.equal(await client.closed, 'closed');
  t.equal(server.counters.closed.idle, 1);
  t.equal(Object.values(server.counters.closed).reduce((a, b) => a + b, 0), 1, 'counted under one reason only');
});

t.test('a client that sends but never reads its replies is paused, then closed as slow after the idle time', async (t) => {
  // 300,000 requests (8.4 MB), whose replies are far more than the kernel buffers on both sides hold.
  // Built before connecting: on a loaded machine building them can outlast the idle time, and the
  // server would close the connection as idle before the first byte.
  const sent = 300_000;
  const requests = Buffer.concat(Array.from({ length: sent }, (_, sequence) => request(sequence)));
  const server = await start(t, { idleMs: 1000 });
  const client = await connectTcpTestClient(server.port, '127.0.0.1');
  client.socket.pause();
  client.socket.write(requests);
  // The server closes with requests of the client still unread in its kernel buffer: a reset.
  t.equal(await client.closed, 'ECONNRESET');
  t.equal(server.counters.closed.slow, 1);
  t.equal(server.counters.replies, server.counters.requests, 'every request read was answered');
  t.ok(server.counters.requests < sent, `the server stopped reading after ${server.counters.requests} requests`);
});

t.test('stopAccepting() refuses new connections and keeps answering open ones; close() then closes them as shutdown', async (t) => {
  const server = await start(t);
  const client = await connectTcpTestClient(server.port, '127.0.0.1');
  await client.ask(request(0));
  server.stopAccepting();
  const refused = connect({ port: server.port, host: '127.0.0.1' });
  const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  t.equal(error.code, 'ECONNREFUSED');
  t.same(summary(await client.ask(request(1))), { mapped: { family: 4, address: '127.0.0.1', port: client.localPort }, count: 2 }, 'still answered');
  await server.close();
  t.equal(await client.closed, 'closed');
  t.match(server.counters, { accepted: 1, replies: 2, closed: { shutdown: 1 } });
  t.equal(server.openConnections(), 0);
});

t.test('startTcpStunServer() on a TCP port in use rejects with BindError EADDRINUSE, naming TCP', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  await t.rejects(startTcpStunServer({ host: '127.0.0.1', port, podName: 'p' }), {
    name: 'BindError',
    code: 'EADDRINUSE',
    message: `TCP 127.0.0.1:${port} is already in use`,
  });
});
