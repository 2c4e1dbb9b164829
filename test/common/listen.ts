import t from 'tap';
import { connect, createServer } from 'node:net';
import { listen } from '../../common/listen.js';

t.test('listen() on port 0 resolves with the address and the port the kernel picked', async (t) => {
  const server = createServer();
  t.teardown(() => server.close());
  const bound = await listen(server, 'TCP', '127.0.0.1', 0);
  t.equal(bound.address, '127.0.0.1');
  t.equal(bound.port, (server.address() as { port: number }).port);
  t.ok(bound.port > 0);
});

t.test('listen() on :: takes IPv4 connections too', async (t) => {
  const server = createServer((socket) => socket.end());
  t.teardown(() => server.close());
  const bound = await listen(server, 'TCP', '::', 0);
  t.equal(bound.address, '::');
  const accepted = new Promise<string | undefined>((resolve) => server.once('connection', (socket) => resolve(socket.remoteAddress)));
  connect({ port: bound.port, host: '127.0.0.1' }).on('error', () => {});
  t.equal(await accepted, '::ffff:127.0.0.1');
});

t.test('listen() on a port in use rejects with BindError naming what was listening, and EADDRINUSE', async (t) => {
  const holder = createServer();
  t.teardown(() => holder.close());
  const { port } = await listen(holder, 'TCP', '127.0.0.1', 0);
  await t.rejects(listen(createServer(), 'HTTP', '127.0.0.1', port), {
    name: 'BindError',
    code: 'EADDRINUSE',
    message: `HTTP 127.0.0.1:${port} is already in use`,
  });
});

t.test('listen() on an address the host does not have rejects with BindError EADDRNOTAVAIL', async (t) => {
  await t.rejects(listen(createServer(), 'TCP', '192.0.2.1', 0), {
    name: 'BindError',
    code: 'EADDRNOTAVAIL',
    message: 'TCP 192.0.2.1:0 cannot be bound (EADDRNOTAVAIL)',
  });
});
