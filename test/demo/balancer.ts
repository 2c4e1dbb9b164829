import t, { type Test } from 'tap';
import { createSocket } from 'node:dgram';
import { DemoBalancer, pickBackend, type Backend } from '../../demo/balancer.js';

t.test('pickBackend() is stable for a flow and spreads a removed backend over all the others', async (t) => {
  const backends: Backend[] = ['a', 'b', 'c', 'd'].map((name, i) => ({ name, address: '127.0.0.1', port: 1000 + i }));
  const flows = Array.from({ length: 400 }, (_, i) => `udp|127.0.0.1|${20000 + i}|127.0.0.1|3478`);
  const before = flows.map((f) => pickBackend(f, backends).name);
  t.same(flows.map((f) => pickBackend(f, backends).name), before, 'deterministic');
  const after = flows.map((f) => pickBackend(f, backends.filter((b) => b.name !== 'b')).name);
  const moved = new Set<string>();
  let disturbed = 0;
  flows.forEach((_, i) => {
    if (before[i] !== 'b') disturbed += after[i] === before[i] ? 0 : 1;
    else moved.add(after[i]!);
  });
  t.equal(disturbed, 0, 'flows of other backends do not move');
  t.same([...moved].sort(), ['a', 'c', 'd'], "b's flows spread over every remaining backend");
});

/** Backends x and y that echo with their name and the port they saw, the balancer with x only, and a client socket. */
async function echoBehindBalancer(t: Test) {
  const backendSockets = await Promise.all(
    ['x', 'y'].map(async (name) => {
      const socket = createSocket('udp4');
      socket.on('message', (m, from) => socket.send(Buffer.concat([Buffer.from(`${name}:${from.port}:`), m]), from.port, from.address));
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
      return { name, socket };
    }),
  );
  const balancer = await DemoBalancer.start({
    backends: [{ name: 'x', address: '127.0.0.1', port: backendSockets[0]!.socket.address().port }],
    graceMs: 10,
  });
  const client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  t.teardown(() => {
    client.close();
    balancer.close();
    for (const b of backendSockets) b.socket.close();
  });
  return { backendSockets, balancer, client };
}

t.test('the demo balancer pins flows, keeps them when a backend is added and rehashes them when theirs is removed', async (t) => {
  const { backendSockets, balancer, client } = await echoBehindBalancer(t);
  const ask = (): Promise<{ text: string; fromPort: number }> =>
    new Promise((resolve) => {
      client.once('message', (m, from) => resolve({ text: m.toString(), fromPort: from.port }));
      client.send('ping', balancer.port, '127.0.0.1');
    });
  const first = await ask();
  t.match(first.text, /^x:\d+:ping$/);
  t.equal(first.fromPort, balancer.port, 'replies come from the balancer');
  balancer.addBackend({ name: 'y', address: '127.0.0.1', port: backendSockets[1]!.socket.address().port });
  t.equal((await ask()).text, first.text, 'same backend and same upstream port after an add');
  t.equal(balancer.removeBackend('x'), 1);
  const moved = await ask();
  t.match(moved.text, /^y:\d+:ping$/);
  t.not(moved.text.split(':')[1], first.text.split(':')[1], 'a new source port for the rehashed flow');
  t.same([...balancer.flowsPerBackend()], [['y', 1]]);
});

t.test('the demo balancer leaves stale flows on a removed backend until clearStale(), and restart() forgets every flow', async (t) => {
  const { backendSockets, balancer, client } = await echoBehindBalancer(t);
  const ask = (): Promise<string> =>
    new Promise((resolve) => {
      client.once('message', (m) => resolve(m.toString()));
      client.send('ping', balancer.port, '127.0.0.1');
    });
  const first = await ask();
  balancer.addBackend({ name: 'y', address: '127.0.0.1', port: backendSockets[1]!.socket.address().port });
  t.equal(balancer.removeBackend('x', 1), 0, 'its one flow is left as a stale one');
  t.equal(await ask(), first, 'still sent to the removed backend, from the same port');
  t.same([...balancer.flowsPerBackend()], [['x', 1]]);
  t.equal(balancer.clearStale(), 1);
  const moved = await ask();
  t.match(moved, /^y:\d+:ping$/);
  t.equal(balancer.restart(), 1);
  const restarted = await ask();
  t.match(restarted, /^y:\d+:ping$/, 'the only backend left');
  t.not(restarted.split(':')[1], moved.split(':')[1], 'a forgotten flow leaves from a new source port');
});
