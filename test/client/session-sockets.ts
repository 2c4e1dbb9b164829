// One socket per session on loopback: replies reach their own session, undecodable datagrams
// are counted, and socket errors are counted by code.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { encodeBindingSuccess } from '../../common/stun/codec.js';
import { RequestEncoder } from '../../client/request-encoder.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { Session, type ReplyOutcome } from '../../client/session.js';
import { openSessionSockets } from '../../client/session-sockets.js';
import type { ResolvedTarget } from '../../client/target.js';

const target = (port: number): ResolvedTarget => ({ host: '127.0.0.1', address: '127.0.0.1', port, family: 4, endpoint: `127.0.0.1:${port}` });

function sessions(count: number): Session[] {
  const identities = new IdentityRegistry();
  return Array.from({ length: count }, (_, i) => new Session({ number: i + 1, sessionId: i + 1, timeoutMs: 1000, identities, emit: () => undefined, random: () => 7 }));
}

t.test('openSessionSockets() delivers each reply to its own session at the clock time, and counts what does not decode', async (t) => {
  const server = createSocket('udp4');
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const all = sessions(3);
  const outcomes: [number, ReplyOutcome][] = [];
  let received: () => void = () => undefined;
  const sockets = await openSessionSockets({
    sessions: all,
    target: target(server.address().port),
    clock: () => 1005,
    onReply: (outcome, response) => {
      outcomes.push([response.transactionId.readUIntBE(0, 6), outcome]);
      received();
    },
  });
  t.teardown(() => sockets.close());
  t.equal(sockets.sockets.length, 3);
  t.equal(new Set(sockets.sockets.map((s) => s.localPort)).size, 3, 'one port per session');
  server.on('message', (request, from) => {
    server.send(encodeBindingSuccess({ transactionId: request.subarray(8, 20), mapped: { address: from.address, port: from.port }, identity: { software: 't' } }), from.port, from.address);
  });
  const replied = new Promise<void>((resolve) => (received = () => outcomes.length === 1 && resolve()));
  const sequence = all[1]!.send(1000);
  sockets.send(1, new RequestEncoder(20).encode(2, sequence, all[1]!.tagOf(sequence)));
  await replied;
  t.strictSame(outcomes, [[2, { kind: 'answered', rttMs: 5 }]], 'session 2 (id 2), RTT from the injected clock');
  t.equal(all[1]!.counters.received, 1);
  t.equal(all[0]!.counters.received + all[2]!.counters.received, 0);

  server.removeAllListeners('message');
  server.once('message', (_request, from) => server.send(Buffer.from('not stun'), from.port, from.address));
  sockets.send(0, Buffer.from('ping'));
  await until(() => sockets.undecodable === 1);
  t.equal(sockets.undecodable, 1);
  t.equal(all[0]!.counters.ignored, 1, 'counted on the session it reached');
});

t.test('openSessionSockets() counts socket errors by code: a closed port answers each request with ECONNREFUSED', async (t) => {
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const sockets = await openSessionSockets({ sessions: sessions(2), target: target(port), clock: () => 0, onReply: () => undefined });
  t.teardown(() => sockets.close());
  // One request in flight per socket at a time: the kernel keeps one pending error per socket.
  for (let round = 1; round <= 3; round++) {
    sockets.send(0, Buffer.from('x'));
    sockets.send(1, Buffer.from('x'));
    await until(() => sockets.errors.ECONNREFUSED === 2 * round);
  }
  t.strictSame(sockets.errors, { ECONNREFUSED: 6 });
});

/** Resolves once `condition` holds: datagrams on loopback arrive within a few event-loop turns. */
async function until(condition: () => boolean): Promise<void> {
  for (let turns = 0; !condition() && turns < 1000; turns++) await new Promise((resolve) => setImmediate(resolve));
}

t.test('openSessionSockets() with extraTargets sends session i to target i mod n and tells onReply the session index', async (t) => {
  const servers = [createSocket('udp4'), createSocket('udp4')];
  for (const server of servers) {
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    t.teardown(() => server.close());
  }
  const reached: [number, number][] = [];
  servers.forEach((server, which) =>
    server.on('message', (request, from) => {
      reached.push([which, request.readUIntBE(8, 6)]);
      server.send(encodeBindingSuccess({ transactionId: request.subarray(8, 20), mapped: { address: from.address, port: from.port }, identity: { software: 't' } }), from.port, from.address);
    }),
  );
  const all = sessions(3);
  const indexes: number[] = [];
  const sockets = await openSessionSockets({
    sessions: all,
    target: target(servers[0]!.address().port),
    extraTargets: [target(servers[1]!.address().port)],
    clock: () => 1001,
    onReply: (_outcome, _response, _session, _now, index) => indexes.push(index),
  });
  t.teardown(() => sockets.close());
  const encoder = new RequestEncoder(20);
  all.forEach((session, i) => {
    const sequence = session.send(1000);
    sockets.send(i, encoder.encode(i + 1, sequence, session.tagOf(sequence)));
  });
  await until(() => indexes.length === 3);
  t.same(reached.sort((a, b) => a[1] - b[1]), [[0, 1], [1, 2], [0, 3]], 'sessions 1 and 3 to the first target, 2 to the second');
  t.same(indexes.sort(), [0, 1, 2]);
});
