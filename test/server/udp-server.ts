import t from 'tap';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { SOFTWARE } from '../../common/version.js';
import { BindError, startStunServer } from '../../server/udp-server.js';
import { openTestSocket } from '../fixtures/stun-client.js';

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

t.test('the server drops garbage without answering and counts it', async (t) => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p' });
  t.teardown(() => server.close());
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  t.equal(await client.ask(Buffer.from('hello'), server.port, '127.0.0.1', 300), undefined);
  t.equal(server.counters.drops['not-stun'] + server.counters.drops.truncated, 1);
  t.equal(server.counters.replies, 0);
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

t.test('new sessions are logged, at most newSessionLogsPerSecond a second', async (t) => {
  const lines: { msg: string; session?: string; from?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p', logger, newSessionLogsPerSecond: 2, summaryIntervalMs: 0 });
  t.teardown(() => server.close());
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  for (let session = 1; session <= 5; session++) {
    await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(0xabc000 + session, 0), size: 200 }), server.port, '127.0.0.1');
    await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(0xabc000 + session, 1), size: 200 }), server.port, '127.0.0.1');
  }
  const logged = lines.filter((line) => line.msg === 'new session');
  t.ok(logged.length >= 2 && logged.length <= 4, `${logged.length} lines for 5 new sessions (2 a second)`);
  t.equal(logged[0]!.session, '000000abc001', 'session id in hex, 12 digits');
  t.equal(logged[0]!.from, `127.0.0.1:${client.port}`);
});

t.test('the server logs a periodic summary with rates and active sessions', async (t) => {
  const lines: { msg: string; requests?: number; activeSessions?: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const server = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'p', logger, summaryIntervalMs: 100 });
  t.teardown(() => server.close());
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(5, 0) }), server.port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 250));
  const summary = lines.find((line) => line.msg === 'summary');
  t.ok(summary, 'a summary line');
  t.equal(summary?.requests, 1);
  t.equal(summary?.activeSessions, 1);
});
