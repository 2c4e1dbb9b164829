import t from 'tap';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { TCP_CLOSE_REASONS, TCP_REFUSALS, TcpResponder, type TcpConnection, type TcpCounters } from '../../server/tcp-responder.js';
import { DROP_REASONS } from '../../server/responder.js';

const IDENTITY = { software: 'affinity-tester/test', podName: 'pod-a', nodeName: 'node-1' };

function responder(maxConnections = 3, idleMs = 10_000): TcpResponder<string> {
  return new TcpResponder<string>({ identity: IDENTITY, maxConnections, idleMs });
}

/** A bare request (28 bytes): over TCP it earns every attribute all the same. */
function request(sequence: number): Buffer {
  return encodeBindingRequest({ transactionId: encodeTransactionId(7, sequence) });
}

function opened(r: TcpResponder<string>, handle: string, address = '192.0.2.10', port = 40000, now = 0): TcpConnection<string> {
  const result = r.open(handle, address, port, now);
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.connection;
}

/** Counters all zero but for `changes` (nested records merged). */
function counters(changes: Partial<{ [K in keyof TcpCounters]: TcpCounters[K] extends number ? number : Record<string, number> }>): TcpCounters {
  const zeros = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0]));
  return {
    accepted: changes.accepted ?? 0,
    requests: changes.requests ?? 0,
    replies: changes.replies ?? 0,
    refused: { ...zeros(TCP_REFUSALS), ...(changes.refused ?? {}) },
    closed: { ...zeros(TCP_CLOSE_REASONS), ...(changes.closed ?? {}) },
    drops: { ...zeros(DROP_REASONS), ...(changes.drops ?? {}) },
  } as TcpCounters;
}

t.test('receive() answers each request with every attribute, a per-connection count and the peer address', async (t) => {
  const r = responder();
  const a = opened(r, 'a', '::ffff:192.0.2.10', 40000);
  const b = opened(r, 'b', '2001:db8::7', 50000);
  for (let sequence = 0; sequence < 3; sequence++) {
    const sent = request(sequence);
    const [reply] = r.receive(a, sent, sequence).replies;
    t.same(decodeBindingResponse(reply!), {
      ok: true,
      response: {
        transactionId: sent.subarray(8, 20),
        mappedAddress: { family: 4, address: '192.0.2.10', port: 40000 },
        software: IDENTITY.software,
        podName: 'pod-a',
        nodeName: 'node-1',
        sessionRequestCount: sequence + 1,
      },
    });
  }
  const [other] = r.receive(b, request(0), 5).replies;
  const decoded = decodeBindingResponse(other!);
  t.same(decoded.ok && [decoded.response.mappedAddress, decoded.response.sessionRequestCount], [{ family: 6, address: '2001:db8::7', port: 50000 }, 1]);
  t.same(r.counters, counters({ accepted: 2, requests: 4, replies: 4 }));
  t.equal(r.openCount, 2);
});

t.test('receive() of two requests in one chunk, and of one split in two, answers each exactly once', async (t) => {
  const r = responder();
  const a = opened(r, 'a');
  t.equal(r.receive(a, Buffer.concat([request(0), request(1)]), 0).replies.length, 2);
  const third = request(2);
  t.same(r.receive(a, third.subarray(0, 10), 1), { replies: [] });
  const [reply] = r.receive(a, third.subarray(10), 2).replies;
  const decoded = decodeBindingResponse(reply!);
  t.equal(decoded.ok && decoded.response.sessionRequestCount, 3);
});

t.test('receive() of garbage answers the requests before it, closes the connection and counts the reason', async (t) => {
  const r = responder();
  const a = opened(r, 'a');
  const b = opened(r, 'b');
  const result = r.receive(a, Buffer.concat([request(0), Buffer.from('GET / HTTP/1.1\r\n')]), 0);
  t.equal(result.replies.length, 1);
  t.equal(result.close, 'not-stun');
  t.same(r.receive(a, request(1), 1), { replies: [] }, 'a closed connection gets nothing more');
  t.equal(r.close(a, 'client-reset'), false, 'the socket closing afterwards is not counted again');
  t.equal(r.receive(b, request(0), 2).replies.length, 1, 'the other connection is undisturbed');
  t.same(r.counters, counters({ accepted: 2, requests: 2, replies: 2, closed: { 'not-stun': 1 } }));
  t.equal(r.openCount, 1);
});

t.test('receive() of a well-framed message that is not a good Binding Request drops it and keeps the connection', async (t) => {
  const r = responder();
  const a = opened(r, 'a');
  const indication = encodeBindingRequest({ transactionId: encodeTransactionId(7, 0), fingerprint: false });
  indication.writeUInt16BE(0x0011, 0);
  const badFingerprint = request(1);
  badFingerprint[badFingerprint.length - 1]! ^= 0xff;
  t.same(r.receive(a, Buffer.concat([indication, badFingerprint]), 0), { replies: [] });
  const [reply] = r.receive(a, request(2), 1).replies;
  const decoded = decodeBindingResponse(reply!);
  t.equal(decoded.ok && decoded.response.sessionRequestCount, 1, 'dropped messages are not counted as requests of the connection');
  t.same(r.counters, counters({ accepted: 1, requests: 3, replies: 1, drops: { 'not-binding-request': 1, 'bad-fingerprint': 1 } }));
});

t.test('open() refuses one connection over the bound, counts it, and takes one again after a close', async (t) => {
  const r = responder(2);
  const a = opened(r, 'a');
  opened(r, 'b');
  t.same(r.open('c', '192.0.2.10', 40002, 0), { ok: false, reason: 'max-connections' });
  t.equal(r.close(a, 'client-closed'), true);
  t.equal(r.open('d', '192.0.2.10', 40003, 0).ok, true);
  t.same(r.counters, counters({ accepted: 3, refused: { 'max-connections': 1 }, closed: { 'client-closed': 1 } }));
});

t.test('open() refuses a peer without a usable address or port as bad-source', async (t) => {
  const r = responder();
  t.same(r.open('a', undefined, undefined, 0), { ok: false, reason: 'bad-source' });
  t.same(r.open('b', 'not-an-ip', 1, 0), { ok: false, reason: 'bad-source' });
  t.same(r.open('c', '192.0.2.1', 0, 0), { ok: false, reason: 'bad-source' });
  t.same(r.counters.refused, { 'max-connections': 0, 'bad-source': 3 });
  t.equal(r.openCount, 0);
});

t.test('expire() closes a connection exactly when it has had no whole message for the idle time', async (t) => {
  const r = responder(3, 1000);
  const quiet = opened(r, 'quiet', '192.0.2.1', 1, 0);
  const busy = opened(r, 'busy', '192.0.2.2', 2, 0);
  r.receive(busy, request(0), 600);
  t.same(r.expire(999), []);
  t.same(r.expire(1000), [{ handle: 'quiet', reason: 'idle' }]);
  t.same(r.receive(quiet, request(0), 1000), { replies: [] });
  t.same(r.expire(1599), []);
  t.same(r.expire(1600), [{ handle: 'busy', reason: 'idle' }]);
  t.same(r.counters.closed.idle, 2);
  t.equal(r.openCount, 0);
});

t.test('expire() calls a connection slow when a message was half received or replies were not read', async (t) => {
  const r = responder(3, 1000);
  const trickle = opened(r, 'trickle', '192.0.2.1', 1, 0);
  const deaf = opened(r, 'deaf', '192.0.2.2', 2, 0);
  opened(r, 'quiet', '192.0.2.3', 3, 0);
  r.receive(trickle, request(0).subarray(0, 19), 500);
  r.setWriteBlocked(deaf, true);
  t.same(r.expire(1000), [
    { handle: 'trickle', reason: 'slow' },
    { handle: 'deaf', reason: 'slow' },
    { handle: 'quiet', reason: 'idle' },
  ]);
  t.same(r.counters.closed, { ...counters({}).closed, slow: 2, idle: 1 });
});

t.test('closeAll() closes every connection as shutdown and returns their handles', async (t) => {
  const r = responder();
  opened(r, 'a');
  const b = opened(r, 'b');
  r.close(b, 'client-closed');
  opened(r, 'c');
  t.same(r.closeAll(), ['a', 'c']);
  t.same(r.counters.closed, { ...counters({}).closed, 'client-closed': 1, shutdown: 2 });
  t.same(r.closeAll(), []);
});
