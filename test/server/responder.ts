import t from 'tap';
import { checkMessage, decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { DROP_REASONS, Responder, type Drop, type DropReason, type Reply } from '../../server/responder.js';
import { FUZZ_KINDS, Random, fuzzDatagram, type FuzzKind } from '../fixtures/stun-fuzz.js';
import { RFC5769_IPV4_RESPONSE, RFC5769_REQUEST } from '../fixtures/stun-vectors.js';

const IDENTITY = { software: 'affinity-tester/test', podName: 'pod-a', nodeName: 'node-1' };
const SESSION = 0x0000aa000001;

function responder(): Responder {
  return new Responder({ identity: IDENTITY, idleMs: 10_000 });
}

function request(sequence: number, size?: number, sessionId = SESSION): Buffer {
  return encodeBindingRequest({ transactionId: encodeTransactionId(sessionId, sequence), size });
}

t.test('respond() to a padded Binding Request replies with every attribute and the session counter', async (t) => {
  const r = responder();
  const datagram = request(0, r.fullReplySize());
  const first = r.respond(datagram, '::ffff:192.0.2.10', 40000, 0) as Reply;
  t.equal(first.sessionId, SESSION);
  t.equal(first.sessionRequestCount, 1);
  t.same(decodeBindingResponse(first.reply), {
    ok: true,
    response: {
      transactionId: datagram.subarray(8, 20),
      mappedAddress: { family: 4, address: '192.0.2.10', port: 40000 },
      software: IDENTITY.software,
      podName: 'pod-a',
      nodeName: 'node-1',
      sessionRequestCount: 1,
    },
  });
  const second = r.respond(request(1, r.fullReplySize()), '192.0.2.10', 40001, 5) as Reply;
  t.equal(second.sessionRequestCount, 2, 'the counter follows the session id, not the source port');
  const other = r.respond(request(0, r.fullReplySize(), SESSION + 1), '192.0.2.10', 40000, 6) as Reply;
  t.equal(other.sessionRequestCount, 1);
  t.same(r.counters, { requests: 3, replies: 3, drops: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) });
});

t.test('respond() to an IPv6 client reports its IPv6 address', async (t) => {
  const r = responder();
  const result = r.respond(request(0, r.fullReplySize()), '2001:db8::42', 3478, 0) as Reply;
  const decoded = decodeBindingResponse(result.reply);
  t.same(decoded.ok && decoded.response.mappedAddress, { family: 6, address: '2001:db8::42', port: 3478 });
  t.equal(decoded.ok && decoded.response.podName, 'pod-a');
  t.ok(result.reply.length <= r.fullReplySize());
});

t.test('respond() never replies larger than the request, except with the bare minimum', async (t) => {
  const r = responder();
  for (let size = 20; size <= r.fullReplySize() + 12; size += 4) {
    for (const address of ['192.0.2.1', '2001:db8::1']) {
      const datagram = request(size, size);
      const result = r.respond(datagram, address, 5000, 0) as Reply;
      t.ok('reply' in result);
      const bare = address.includes(':') ? 44 : 32;
      t.ok(result.reply.length <= Math.max(datagram.length, bare), `${address}, request ${datagram.length} -> reply ${result.reply.length}`);
      t.equal(checkMessage(result.reply), undefined);
    }
  }
});

t.test('respond() to an unpadded 20-byte request (no attributes) sends header + XOR-MAPPED-ADDRESS only', async (t) => {
  const r = responder();
  const result = r.respond(encodeBindingRequest({ transactionId: encodeTransactionId(1, 1), fingerprint: false }), '192.0.2.1', 5000, 0) as Reply;
  t.equal(result.reply.length, 32);
  const decoded = decodeBindingResponse(result.reply);
  t.same(decoded.ok && decoded.response.mappedAddress, { family: 4, address: '192.0.2.1', port: 5000 });
  t.equal(decoded.ok && decoded.response.podName, undefined);
});

t.test('respond() answers the RFC 5769 sample request (ICE attributes, MESSAGE-INTEGRITY ignored)', async (t) => {
  const r = responder();
  const result = r.respond(RFC5769_REQUEST, '192.0.2.1', 32853, 0);
  t.ok('reply' in result);
});

t.test('respond() drops what is not a Binding Request, with the reason, and counts it', async (t) => {
  const r = responder();
  const cases: [Buffer, string][] = [
    [Buffer.from([0x80, 0x00, 0x00, 0x00]), 'not-stun'],
    [Buffer.alloc(10), 'truncated'],
    [request(0).subarray(0, 24), 'bad-length'],
    [Buffer.concat([Buffer.from('000100002112a443', 'hex'), Buffer.alloc(12)]), 'bad-cookie'],
    [Buffer.concat([Buffer.from('000100082112a442', 'hex'), Buffer.alloc(12), Buffer.from('8022ffff00000000', 'hex')]), 'truncated-attribute'],
    [Buffer.concat([Buffer.from('000100102112a442', 'hex'), Buffer.alloc(12), Buffer.from('80280004000000008022000000000000', 'hex').subarray(0, 16)]), 'fingerprint-not-last'],
    [Buffer.concat([Buffer.from('000100082112a442', 'hex'), Buffer.alloc(12), Buffer.from('8028000400000000', 'hex')]), 'bad-fingerprint'],
    [RFC5769_IPV4_RESPONSE, 'not-binding-request'],
  ];
  for (const [datagram, reason] of cases) {
    t.same(r.respond(datagram, '192.0.2.1', 5000, 0), { drop: reason }, reason);
  }
  const indication = request(0);
  indication.writeUInt16BE(0x0011, 0); // Binding Indication: well formed but never answered
  indication.writeUInt32BE(0, 24);
  t.same(r.respond(indication, '192.0.2.1', 5000, 0), { drop: 'bad-fingerprint' }, 'type change breaks the FINGERPRINT');
  const unfingerprinted = encodeBindingRequest({ transactionId: encodeTransactionId(1, 1), fingerprint: false });
  unfingerprinted.writeUInt16BE(0x0011, 0);
  t.same(r.respond(unfingerprinted, '192.0.2.1', 5000, 0), { drop: 'not-binding-request' });
  t.equal(r.counters.replies, 0);
  t.equal(r.counters.requests, cases.length + 2);
  for (const [, reason] of cases) t.ok(r.counters.drops[reason as Drop['drop']] >= 1, `${reason} counted`);
});

t.test('respond() from port 0 or a non-IP source drops bad-source', async (t) => {
  const r = responder();
  t.same(r.respond(request(0), '192.0.2.1', 0, 0), { drop: 'bad-source' });
  t.same(r.respond(request(0), 'not-an-address', 5000, 0), { drop: 'bad-source' });
  t.same(r.respond(request(0), '999.0.0.1', 5000, 0), { drop: 'bad-source' });
  t.equal(r.counters.drops['bad-source'], 3);
  t.equal(r.sessions.size, 0, 'a dropped request does not create a session');
});

t.test('respond() on the drop path returns one shared object per reason (no allocation)', async (t) => {
  const r = responder();
  const a = r.respond(Buffer.alloc(3), '192.0.2.1', 5000, 0);
  const b = r.respond(Buffer.alloc(5), '192.0.2.1', 5000, 0);
  t.equal(a, b);
  t.ok(Object.isFrozen(a));
});

t.test('respond() counts a session again from 1 after it idled past the timeout', async (t) => {
  const r = responder();
  t.equal((r.respond(request(0, 200), '192.0.2.1', 5000, 0) as Reply).sessionRequestCount, 1);
  t.equal((r.respond(request(1, 200), '192.0.2.1', 5000, 9_000) as Reply).sessionRequestCount, 2);
  t.equal((r.respond(request(2, 200), '192.0.2.1', 5000, 30_000) as Reply).sessionRequestCount, 1);
});

// The fuzz: generated invalid datagrams (test/fixtures/stun-fuzz.ts), straight into respond().
// FUZZ_SEED replays another sequence.
const FUZZ_TOTAL = 100_000;
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

/** The reasons each kind of invalid datagram may be dropped for; anything else is a bug. */
const FUZZ_REASONS: Record<FuzzKind, readonly DropReason[]> = {
  'random-bytes': ['not-stun', 'truncated', 'bad-length', 'bad-cookie', 'truncated-attribute', 'fingerprint-not-last', 'bad-fingerprint', 'not-binding-request'],
  'bad-length-field': ['bad-length'],
  'truncated-attribute': ['truncated-attribute'],
  'huge-attribute-length': ['truncated-attribute'],
  'wrong-cookie': ['bad-cookie'],
  // One changed byte: the first (top bits), the length, the cookie, or anything FINGERPRINT covers.
  'mutated-request': ['not-stun', 'bad-length', 'bad-cookie', 'bad-fingerprint'],
  'truncated-request': ['truncated', 'bad-length'],
  'fingerprint-not-last': ['fingerprint-not-last'],
  'other-message-type': ['not-binding-request'],
};

t.test(`respond() answers none of ${FUZZ_TOTAL} invalid datagrams, drops each for a reason its kind allows, and still answers a valid request`, async (t) => {
  const r = responder();
  const random = new Random(FUZZ_SEED);
  const seen = new Map<FuzzKind, Set<DropReason>>(FUZZ_KINDS.map((kind) => [kind, new Set()]));
  let replies = 0;
  for (let i = 0; i < FUZZ_TOTAL; i++) {
    const kind = FUZZ_KINDS[i % FUZZ_KINDS.length]!;
    // Alternate IPv4 and IPv6 sources, as a dual-stack socket delivers them.
    const result = r.respond(fuzzDatagram(random, kind), i & 1 ? '2001:db8::7' : '192.0.2.7', 1024 + (i & 0xfff), i);
    if ('drop' in result) seen.get(kind)!.add(result.drop);
    else replies++;
  }
  t.equal(replies, 0, 'no reply');
  t.equal(r.counters.replies, 0);
  t.equal(r.counters.requests, FUZZ_TOTAL);
  t.equal(Object.values(r.counters.drops).reduce((sum, n) => sum + n, 0), FUZZ_TOTAL, 'the drop counters add up to the datagrams');
  for (const [kind, reasons] of seen) t.same([...reasons].filter((reason) => !FUZZ_REASONS[kind].includes(reason)), [], `${kind}: only the reasons it allows`);
  t.comment(`drops by reason (seed ${FUZZ_SEED}): ${JSON.stringify(r.counters.drops)}`);
  for (const reason of ['not-stun', 'truncated', 'bad-length', 'bad-cookie', 'truncated-attribute', 'fingerprint-not-last', 'bad-fingerprint', 'not-binding-request'] as const) {
    t.ok(r.counters.drops[reason] > 0, `${reason} was exercised (${r.counters.drops[reason]})`);
  }
  t.equal(r.sessions.size, 0, 'no invalid datagram created a session');

  for (const address of ['192.0.2.7', '2001:db8::7']) {
    const result = r.respond(request(0, r.fullReplySize()), address, 40000, FUZZ_TOTAL);
    const decoded = 'reply' in result ? decodeBindingResponse(result.reply) : undefined;
    t.same(decoded?.ok && decoded.response.mappedAddress, { family: address.includes(':') ? 6 : 4, address, port: 40000 }, `a valid request from ${address} is answered afterwards`);
  }
});
