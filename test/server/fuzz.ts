// 100,000+ random and mutated datagrams at a running server: it must answer none of them,
// count every one as a drop, stay up, and still answer a valid request afterwards.
import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { startStunServer } from '../../server/udp-server.js';
import { FUZZ_KINDS, Random, fuzzDatagram } from '../fixtures/stun-fuzz.js';

const TOTAL = 120_000;
// Small batches: even where net.core.rmem_max leaves the server a small receive buffer, a batch
// fits in it, so the kernel has no reason to drop any.
const BATCH = 100;
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

async function bindClient(type: 'udp4' | 'udp6', host: string): Promise<Socket> {
  const socket = createSocket(type);
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return socket;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test(`the server answers none of ${TOTAL} invalid datagrams and still answers a valid request`, async (t) => {
  const server = await startStunServer({ port: 0, podName: 'pod-fuzz', nodeName: 'node-fuzz' });
  t.teardown(() => server.close());
  const clients = [await bindClient('udp4', '127.0.0.1'), await bindClient('udp6', '::1')];
  const targets = ['127.0.0.1', '::1'];
  let repliesReceived = 0;
  for (const client of clients) client.on('message', () => repliesReceived++);
  t.teardown(() => clients.forEach((client) => client.close()));

  const random = new Random(SEED);
  const sentByKind = new Map<string, number>();
  let sent = 0;
  while (sent < TOTAL) {
    for (let i = 0; i < BATCH; i++, sent++) {
      const kind = FUZZ_KINDS[sent % FUZZ_KINDS.length]!;
      sentByKind.set(kind, (sentByKind.get(kind) ?? 0) + 1);
      const which = sent & 1;
      clients[which]!.send(fuzzDatagram(random, kind), server.port, targets[which]);
    }
    // Paced: let the server drain each batch before the next. Should the kernel drop some
    // anyway, stop waiting once the count stops moving, and let the assertions below judge.
    let seen = server.counters.requests;
    let stalledSince = Date.now();
    while (server.counters.requests < sent && Date.now() - stalledSince < 200) {
      await tick();
      if (server.counters.requests !== seen) {
        seen = server.counters.requests;
        stalledSince = Date.now();
      }
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200));

  const { counters } = server;
  const dropped = Object.values(counters.drops).reduce((sum, n) => sum + n, 0);
  // Loopback UDP may drop under pressure; the pacing makes that rare, and the point of the test
  // is what happens to the datagrams that do arrive.
  t.ok(counters.requests >= TOTAL * 0.99 && counters.requests <= TOTAL, `the server received ${counters.requests} of ${TOTAL} datagrams`);
  t.equal(counters.replies, 0, 'the server sent no reply');
  t.equal(repliesReceived, 0, 'no reply arrived at the senders');
  t.equal(dropped, counters.requests, 'the drop counters add up to the datagrams received');
  t.comment(`drops by reason (seed ${SEED}): ${JSON.stringify(counters.drops)}`);
  for (const reason of ['not-stun', 'truncated', 'bad-length', 'bad-cookie', 'truncated-attribute', 'fingerprint-not-last', 'bad-fingerprint', 'not-binding-request'] as const) {
    t.ok(counters.drops[reason] > 0, `${reason} was exercised (${counters.drops[reason]})`);
  }

  for (const [index, client] of clients.entries()) {
    const request = encodeBindingRequest({ transactionId: encodeTransactionId(0xf00d, index), size: server.fullReplySize });
    const reply = new Promise<Buffer>((resolve) => client.once('message', resolve));
    client.send(request, server.port, targets[index]);
    const decoded = decodeBindingResponse(await reply);
    t.ok(decoded.ok && decoded.response.podName === 'pod-fuzz', `a valid request over ${targets[index]} is answered afterwards`);
  }
  t.equal(counters.replies, 2);
});
