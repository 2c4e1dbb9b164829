import t from 'tap';
import { createSocket } from 'node:dgram';
import { pino, type Logger } from 'pino';
import { BindError } from '../../common/errors.js';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { SOFTWARE } from '../../common/version.js';
import { startStunServer } from '../../server/udp-server.js';
import { openTestSocket } from '../fixtures/stun-client.js';
import { FUZZ_KINDS, Random, fuzzDatagram } from '../fixtures/stun-fuzz.js';

/** A pino logger whose lines land in `lines`, parsed. */
function capture(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) }), lines };
}

/** Resolves once `condition()` holds, checking after each turn of the event loop (at most 5 s). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
}

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

t.test('startStunServer() on 127.0.0.1 answers a padded request with pod, node, counter and the client address', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-a', nodeName: 'node-1' });
  t.teardown(() => server.close());
  t.equal(server.address, '127.0.0.1');
  t.ok(server.port > 0);
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  for (let sequence = 0; sequence < 3; sequence++) {
    const request = encodeBindingRequest({ transactionId: encodeTransactionId(99, sequence), size: server.fullReplySize });
    const reply = await client.ask(request, server.port, '127.0.0.1');
    t.ok(reply, `reply to request ${sequence}`);
    t.same(decodeBindingResponse(reply!), {
      ok: true,
      response: {
        transactionId: request.subarray(8, 20),
        mappedAddress: { family: 4, address: '127.0.0.1', port: client.port },
        software: SOFTWARE,
        podName: 'pod-a',
        nodeName: 'node-1',
        sessionRequestCount: sequence + 1,
      },
    });
  }
  t.equal(server.counters.requests, 3);
  t.equal(server.counters.replies, 3);
  t.equal(server.activeSessions(), 1);
});

t.test('startStunServer() on ::1 answers an IPv6 client with its IPv6 address', async (t) => {
  const server = await startStunServer({ host: '::1', port: 0, podName: 'pod-6' });
  t.teardown(() => server.close());
  const client = await openTestSocket(6);
  t.teardown(() => client.close());
  const reply = await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, 1), size: server.fullReplySize }), server.port, '::1');
  const decoded = decodeBindingResponse(reply!);
  t.same(decoded.ok && decoded.response.mappedAddress, { family: 6, address: '::1', port: client.port });
  t.equal(decoded.ok && decoded.response.podName, 'pod-6');
});

t.test('startStunServer() by default listens dual-stack and reports IPv4 clients as IPv4', async (t) => {
  const server = await startStunServer({ port: 0, podName: 'pod-d' });
  t.teardown(() => server.close());
  t.equal(server.address, '::');
  for (const [family, host] of [[4, '127.0.0.1'], [6, '::1']] as const) {
    const client = await openTestSocket(family);
    const reply = await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(2, 1), size: 200 }), server.port, host);
    client.close();
    const decoded = decodeBindingResponse(reply!);
    t.same(decoded.ok && decoded.response.mappedAddress, { family, address: host, port: client.port }, host);
  }
});

t.test('startStunServer() sizes its socket buffers as asked, within the kernel limit', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p', recvBufferBytes: 256 * 1024, sendBufferBytes: 128 * 1024 });
  t.teardown(() => server.close());
  // Linux doubles the value it grants (socket(7)), so the effective size is at least the request.
  t.ok(server.bufferSizes.recv >= 256 * 1024, `receive buffer ${server.bufferSizes.recv}`);
  t.ok(server.bufferSizes.send >= 128 * 1024, `send buffer ${server.bufferSizes.send}`);
});

t.test('the server answers none of 600 invalid datagrams over IPv4 and IPv6, counts each as a drop, then answers a valid request on both', async (t) => {
  const server = await startStunServer({ port: 0, podName: 'pod-smoke' });
  t.teardown(() => server.close());
  const clients = [await openTestSocket(4), await openTestSocket(6)];
  t.teardown(() => clients.forEach((client) => client.close()));
  const hosts = ['127.0.0.1', '::1'];
  let repliesReceived = 0;
  for (const client of clients) client.socket.on('message', () => repliesReceived++);

  const random = new Random(0x5eed);
  const garbage = 600;
  for (let i = 0; i < garbage; i++) clients[i & 1]!.socket.send(fuzzDatagram(random, FUZZ_KINDS[i % FUZZ_KINDS.length]!), server.port, hosts[i & 1]);
  // Wait for the datagrams themselves, not for a time: each one moves the request counter.
  await until(() => server.counters.requests === garbage);
  t.equal(server.counters.requests, garbage, 'every datagram reached the server');
  t.equal(server.counters.replies, 0);
  t.equal(Object.values(server.counters.drops).reduce((sum, n) => sum + n, 0), garbage, 'each one counted as a drop');

  for (const [index, client] of clients.entries()) {
    const reply = await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(0xf00d, index), size: server.fullReplySize }), server.port, hosts[index]!);
    const decoded = decodeBindingResponse(reply!);
    t.same(decoded.ok && decoded.response.mappedAddress, { family: index === 0 ? 4 : 6, address: hosts[index], port: client.port }, `answered over ${hosts[index]}`);
  }
  t.equal(repliesReceived, 2, 'the two valid requests got the only replies');
  t.equal(server.counters.replies, 2);
});

t.test('startStunServer() on a port in use rejects with BindError EADDRINUSE', async (t) => {
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  await t.rejects(startStunServer({ host: '127.0.0.1', port: holder.address().port, podName: 'p' }), {
    name: 'BindError',
    code: 'EADDRINUSE',
    message: `UDP 127.0.0.1:${holder.address().port} is already in use`,
  });
});

t.test('startStunServer() with a host that is not an IP address rejects with BindError', async (t) => {
  await t.rejects(startStunServer({ host: 'not-an-ip', port: 0, podName: 'p' }), BindError);
  await t.rejects(startStunServer({ host: '127.0.0.1', port: 70000, podName: 'p' }), BindError);
});

t.test('startStunServer() on an address this machine does not have rejects with BindError', async (t) => {
  await t.rejects(startStunServer({ host: '192.0.2.77', port: 0, podName: 'p' }), { name: 'BindError', code: 'EADDRNOTAVAIL' });
});

t.test('close() releases the port and may be called twice', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p' });
  await Promise.all([server.close(), server.close()]);
  const again = await startStunServer({ host: '127.0.0.1', port: server.port, podName: 'p' });
  t.equal(again.port, server.port);
  await again.close();
});

t.test('new sessions are logged, at most newSessionLogsPerSecond in each second of the clock, the rest counted', async (t) => {
  const { logger, lines } = capture();
  let now = 10_000;
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p', logger, newSessionLogsPerSecond: 2, summaryIntervalMs: 0, clock: () => now });
  t.teardown(() => server.close());
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  const ask = (session: number, sequence: number) =>
    client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(0xabc000 + session, sequence), size: 200 }), server.port, '127.0.0.1');
  for (let session = 1; session <= 5; session++) {
    await ask(session, 0);
    await ask(session, 1);
  }
  now = 11_500;
  await ask(6, 0);
  const from = `127.0.0.1:${client.port}`;
  t.same(lines, [
    { level: 30, msg: 'new session', session: '000000abc001', from },
    { level: 30, msg: 'new session', session: '000000abc002', from },
    { level: 30, msg: 'more new sessions not logged', suppressed: 3 },
    { level: 30, msg: 'new session', session: '000000abc006', from },
  ]);
});

t.test('the server logs a summary each tick, with the rates over the elapsed time of its clock and the active sessions', async (t) => {
  const { logger, lines } = capture();
  let now = 1_000;
  const ticks: { ms: number; tick: () => void; stopped: boolean }[] = [];
  const ticker = (ms: number, tick: () => void) => {
    const entry = { ms, tick, stopped: false };
    ticks.push(entry);
    return () => void (entry.stopped = true);
  };
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p', logger, summaryIntervalMs: 30_000, clock: () => now, ticker });
  t.same(ticks.map(({ ms }) => ms), [30_000], 'one ticker, at the interval asked for');
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(5, 0), size: 200 }), server.port, '127.0.0.1');
  client.socket.send(Buffer.from('junk'), server.port, '127.0.0.1');
  await until(() => server.counters.requests === 2);
  now = 1_500;
  ticks[0]!.tick();
  t.same(lines, [
    { level: 30, msg: 'new session', session: '000000000005', from: `127.0.0.1:${client.port}` },
    {
      level: 30,
      msg: 'summary',
      requests: 2,
      replies: 1,
      drops: { 'not-stun': 1 },
      sendBacklogDrops: 0,
      requestsPerSecond: 4,
      repliesPerSecond: 2,
      activeSessions: 1,
    },
  ]);
  now = 3_500;
  ticks[0]!.tick();
  t.match(lines.at(-1), { msg: 'summary', requests: 2, requestsPerSecond: 0, repliesPerSecond: 0 }, 'the next period starts where the last ended');
  await server.close();
  t.equal(ticks[0]!.stopped, true, 'close() stops the ticker');
});

t.test('startStunServer() without a logger, or with summaryIntervalMs 0, starts no ticker', async (t) => {
  const ticker = () => {
    t.fail('no ticker expected');
    return () => {};
  };
  await (await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p', ticker })).close();
  await (await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p', ticker, logger: capture().logger, summaryIntervalMs: 0 })).close();
});
