import t from 'tap';
import stun from '@msimerson/stun';
import {
  BindingResponseEncoder,
  attributeSize,
  checkMessage,
  decode,
  decodeBindingResponse,
  encodeBindingRequest,
  encodeBindingSuccess,
} from '../../../common/stun/codec.js';
import { Attribute, MessageType } from '../../../common/stun/constants.js';
import { parseIp } from '../../../common/ip-address.js';
import {
  RFC5769_IPV4_RESPONSE,
  RFC5769_IPV6_RESPONSE,
  RFC5769_REQUEST,
  RFC5769_TRANSACTION_ID,
  attributesOf,
  hasValidFingerprint,
} from '../../fixtures/stun-vectors.js';

const TID = Buffer.from('0102030405060708090a0b0c', 'hex');
const IDENTITY = { software: 'affinity-tester/9.9.9', podName: 'echo-7d9f8b6c5-x2x9k', nodeName: 'worker-3' };

/** A Binding Success header with the given body, for hand-built failure cases. */
function message(type: number, body: Buffer, lengthField = body.length): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(lengthField, 2);
  header.writeUInt32BE(0x2112a442, 4);
  TID.copy(header, 8);
  return Buffer.concat([header, body]);
}

function attribute(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(attributeSize(value.length));
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

t.test('RFC 5769 vectors', async (t) => {
  t.test('checkMessage() accepts the sample request and its FINGERPRINT (section 2.1)', async (t) => {
    t.equal(checkMessage(RFC5769_REQUEST), undefined);
    const decoded = decode(RFC5769_REQUEST);
    t.ok(decoded.ok);
    if (!decoded.ok) return;
    t.equal(decoded.message.type, MessageType.BindingRequest);
    t.equal(decoded.message.hasFingerprint, true);
    t.same(decoded.message.transactionId, RFC5769_TRANSACTION_ID);
    t.same(
      decoded.message.attributes.map((a) => a.type),
      [0x8022, 0x0024, 0x8029, 0x0006, 0x0008],
      'every attribute but FINGERPRINT, in order',
    );
  });

  t.test('decodeBindingResponse() of the sample IPv4 response gives 192.0.2.1:32853 (section 2.2)', async (t) => {
    const result = decodeBindingResponse(RFC5769_IPV4_RESPONSE);
    t.same(result, {
      ok: true,
      response: { transactionId: RFC5769_TRANSACTION_ID, software: 'test vector', mappedAddress: { family: 4, address: '192.0.2.1', port: 32853 } },
    });
  });

  t.test('decodeBindingResponse() of the sample IPv6 response gives 2001:db8:1234:5678:11:2233:4455:6677 (section 2.3)', async (t) => {
    const result = decodeBindingResponse(RFC5769_IPV6_RESPONSE);
    t.ok(result.ok);
    if (!result.ok) return;
    t.same(result.response.mappedAddress, { family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 });
  });

  t.test('a sample response with one bit flipped returns bad-fingerprint', async (t) => {
    for (const vector of [RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE, RFC5769_REQUEST]) {
      const corrupt = Buffer.from(vector);
      corrupt[30]! ^= 0x01;
      t.equal(checkMessage(corrupt), 'bad-fingerprint');
    }
  });
});

t.test('decode failure reasons', async (t) => {
  t.test('decode() of an RTP-like datagram (top bits 10) returns not-stun', async (t) => {
    const rtp = Buffer.alloc(40);
    rtp[0] = 0x80;
    t.same(decode(rtp), { ok: false, reason: 'not-stun' });
  });

  t.test('decode() of an empty datagram or a partial header returns truncated', async (t) => {
    t.same(decode(Buffer.alloc(0)), { ok: false, reason: 'truncated' });
    t.same(decode(message(1, Buffer.alloc(0)).subarray(0, 19)), { ok: false, reason: 'truncated' });
  });

  t.test('decode() with a length field that disagrees with the datagram returns bad-length', async (t) => {
    t.same(decode(message(1, Buffer.alloc(8), 12)), { ok: false, reason: 'bad-length' });
    t.same(decode(message(1, Buffer.alloc(8), 4)), { ok: false, reason: 'bad-length' });
    t.same(decode(message(1, Buffer.alloc(6))), { ok: false, reason: 'bad-length' }, 'not a multiple of 4');
  });

  t.test('decode() without the magic cookie (RFC 3489 style) returns bad-cookie', async (t) => {
    const old = message(1, Buffer.alloc(0));
    old.writeUInt32BE(0x12345678, 4);
    t.same(decode(old), { ok: false, reason: 'bad-cookie' });
  });

  t.test('decode() of a truncated attribute returns truncated-attribute', async (t) => {
    const body = Buffer.alloc(8);
    body.writeUInt16BE(Attribute.Software, 0);
    body.writeUInt16BE(5, 2); // needs 8 bytes of value, has 4
    t.same(decode(message(1, body)), { ok: false, reason: 'truncated-attribute' });
    body.writeUInt16BE(0xffff, 2); // huge length
    t.same(decode(message(1, body)), { ok: false, reason: 'truncated-attribute' });
  });

  t.test('decode() with an attribute after FINGERPRINT returns fingerprint-not-last', async (t) => {
    const request = encodeBindingRequest({ transactionId: TID });
    const extended = message(1, Buffer.concat([request.subarray(20), attribute(Attribute.Software, Buffer.from('x'))]));
    t.same(decode(extended), { ok: false, reason: 'fingerprint-not-last' });
    const longFingerprint = message(1, attribute(Attribute.Fingerprint, Buffer.alloc(8)));
    t.same(decode(longFingerprint), { ok: false, reason: 'fingerprint-not-last' }, 'FINGERPRINT must be 4 bytes');
  });

  t.test('decode() with a wrong FINGERPRINT returns bad-fingerprint', async (t) => {
    const request = encodeBindingRequest({ transactionId: TID });
    request.writeUInt32BE(request.readUInt32BE(24) ^ 1, 24);
    t.same(decode(request), { ok: false, reason: 'bad-fingerprint' });
  });

  t.test('decodeBindingResponse() of a bad XOR-MAPPED-ADDRESS returns bad-address', async (t) => {
    const family3 = Buffer.from('0003a147e112a643', 'hex');
    t.same(decodeBindingResponse(message(MessageType.BindingSuccess, attribute(Attribute.XorMappedAddress, family3))), {
      ok: false,
      reason: 'bad-address',
    });
    const shortV6 = Buffer.from('0002a147e112a643', 'hex');
    t.same(decodeBindingResponse(message(MessageType.BindingSuccess, attribute(Attribute.XorMappedAddress, shortV6))), {
      ok: false,
      reason: 'bad-address',
    });
    t.same(decodeBindingResponse(message(MessageType.BindingSuccess, attribute(Attribute.XorMappedAddress, Buffer.alloc(2)))), {
      ok: false,
      reason: 'bad-address',
    });
  });

  t.test('decodeBindingResponse() of a request returns not-binding-success', async (t) => {
    t.same(decodeBindingResponse(encodeBindingRequest({ transactionId: TID })), { ok: false, reason: 'not-binding-success' });
  });

  t.test('decode() never throws on random bytes', async (t) => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    let reasons = 0;
    for (let i = 0; i < 2000; i++) {
      const datagram = Buffer.alloc(i % 120);
      for (let j = 0; j < datagram.length; j++) datagram[j] = random();
      if (i % 2 === 0 && datagram.length >= 20) {
        datagram[0]! &= 0x3f;
        datagram.writeUInt16BE(datagram.length - 20, 2);
        datagram.writeUInt32BE(0x2112a442, 4);
      }
      const result = decodeBindingResponse(datagram);
      if (!result.ok) reasons++;
    }
    t.equal(reasons, 2000, "every one is rejected with a reason");
  });
});

t.test('decodeBindingResponse() reads MAPPED-ADDRESS when there is no XOR-MAPPED-ADDRESS, and prefers XOR-MAPPED-ADDRESS', async (t) => {
  const onlyLegacy = stun.createMessage(MessageType.BindingSuccess, TID);
  onlyLegacy.addAttribute(Attribute.MappedAddress, '192.0.2.1', 54321);
  const legacy = decodeBindingResponse(onlyLegacy.toBuffer());
  t.same(legacy.ok && legacy.response.mappedAddress, { family: 4, address: '192.0.2.1', port: 54321 });
  const both = stun.createMessage(MessageType.BindingSuccess, TID);
  both.addAttribute(Attribute.MappedAddress, '192.0.2.1', 54321);
  both.addXorAddress('198.51.100.7', 4000);
  const preferred = decodeBindingResponse(both.toBuffer());
  t.same(preferred.ok && preferred.response.mappedAddress, { family: 4, address: '198.51.100.7', port: 4000 });
});

t.test('encodeBindingRequest()', async (t) => {
  t.test('without padding is a 28-byte request that the oracle decodes and whose FINGERPRINT it validates', async (t) => {
    const request = encodeBindingRequest({ transactionId: TID });
    t.equal(request.length, 28);
    const oracle = stun.decode(request);
    t.equal(oracle.type, MessageType.BindingRequest);
    t.same(oracle.transactionId, TID);
    t.equal(stun.validateFingerprint(oracle), true);
    t.ok(hasValidFingerprint(request));
  });

  t.test('pads to at least the requested size with a PADDING attribute, FINGERPRINT last', async (t) => {
    // Header 20 + SOFTWARE 'x' 8 + FINGERPRINT 8 = 36 bytes before any padding.
    for (const size of [37, 39, 40, 41, 100, 117, 200]) {
      const request = encodeBindingRequest({ transactionId: TID, size, software: 'x' });
      t.ok(request.length >= size && request.length < size + 4, `size ${size} -> ${request.length}`);
      t.equal(request.length % 4, 0);
      t.equal(checkMessage(request), undefined);
      const types = attributesOf(request).map(([type]) => type);
      t.same(types, [Attribute.Software, Attribute.Padding, Attribute.Fingerprint]);
      t.ok(hasValidFingerprint(request), 'CRC checked by an independent implementation');
      t.doesNotThrow(() => stun.decode(request), 'the oracle decodes it');
    }
  });

  t.test('asked for a size it already reaches, adds no PADDING', async (t) => {
    const request = encodeBindingRequest({ transactionId: TID, size: 30, software: 'x' });
    t.equal(request.length, 36);
    t.same(attributesOf(request).map(([type]) => type), [Attribute.Software, Attribute.Fingerprint]);
  });

  t.test('without FINGERPRINT ends after its last attribute', async (t) => {
    const request = encodeBindingRequest({ transactionId: TID, fingerprint: false });
    t.equal(request.length, 20);
    t.equal(checkMessage(request), undefined);
  });
});

t.test('our decoder reads what the oracle encodes', async (t) => {
  t.test('an oracle Binding Success (IPv4, SOFTWARE, FINGERPRINT)', async (t) => {
    const reply = stun.createMessage(MessageType.BindingSuccess, TID);
    reply.addXorAddress('203.0.113.9', 61000);
    reply.addSoftware('oracle');
    reply.addFingerprint();
    const result = decodeBindingResponse(reply.toBuffer());
    t.same(result, { ok: true, response: { transactionId: TID, mappedAddress: { family: 4, address: '203.0.113.9', port: 61000 }, software: 'oracle' } });
  });

  t.test('an oracle Binding Success for an IPv6 client', async (t) => {
    const reply = stun.createMessage(MessageType.BindingSuccess, TID);
    reply.addXorAddress('2001:db8::1:2', 443);
    reply.addFingerprint();
    const result = decodeBindingResponse(reply.toBuffer());
    t.same(result.ok && result.response.mappedAddress, { family: 6, address: '2001:db8::1:2', port: 443 });
  });

  t.test('an oracle Binding Request passes checkMessage()', async (t) => {
    const request = stun.createMessage(MessageType.BindingRequest, TID);
    request.addSoftware('oracle client');
    request.addFingerprint();
    t.equal(checkMessage(request.toBuffer()), undefined);
  });

  t.test('a hand-built IPv6 XOR-MAPPED-ADDRESS (RFC 8489 section 14.2, XOR done byte by byte here)', async (t) => {
    const ip = parseIp('2001:db8:85a3::8a2e:370:7334')!.bytes;
    const key = Buffer.concat([Buffer.from('2112a442', 'hex'), TID]);
    const value = Buffer.alloc(20);
    value[1] = 0x02;
    value.writeUInt16BE(12345 ^ 0x2112, 2);
    for (let i = 0; i < 16; i++) value[4 + i] = ip[i]! ^ key[i]!;
    const result = decodeBindingResponse(message(MessageType.BindingSuccess, attribute(Attribute.XorMappedAddress, value)));
    t.same(result.ok && result.response.mappedAddress, { family: 6, address: '2001:db8:85a3::8a2e:370:7334', port: 12345 });
  });
});

t.test('the oracle reads what we encode', async (t) => {
  t.test('a minimal reply (XOR-MAPPED-ADDRESS, SOFTWARE, FINGERPRINT) passes the oracle FINGERPRINT check', async (t) => {
    const reply = encodeBindingSuccess({ transactionId: TID, mapped: { address: '192.0.2.44', port: 5000 }, identity: { software: 'affinity-tester/1' } });
    const oracle = stun.decode(reply);
    t.equal(oracle.type, MessageType.BindingSuccess);
    t.same(oracle.getXorAddress(), { address: '192.0.2.44', port: 5000, family: 'IPv4' });
    t.equal(String(oracle.getAttribute(Attribute.Software)?.value), 'affinity-tester/1');
    t.equal(stun.validateFingerprint(oracle), true);
  });

  t.test('a bare reply (header + XOR-MAPPED-ADDRESS) decodes in the oracle', async (t) => {
    const reply = encodeBindingSuccess({ transactionId: TID, mapped: { address: '192.0.2.44', port: 5000 }, identity: IDENTITY, budget: 28 });
    t.equal(reply.length, 32);
    t.same(stun.decode(reply).getXorAddress(), { address: '192.0.2.44', port: 5000, family: 'IPv4' });
  });

  t.test('a full reply with our attributes decodes in the oracle, and its FINGERPRINT checks out independently', async (t) => {
    const reply = encodeBindingSuccess({ transactionId: TID, mapped: { address: '192.0.2.44', port: 5000 }, identity: IDENTITY, sessionRequestCount: 42 });
    const oracle = stun.decode(reply);
    t.same(oracle.getXorAddress(), { address: '192.0.2.44', port: 5000, family: 'IPv4' });
    t.equal(String(oracle.getAttribute(Attribute.Software)?.value), IDENTITY.software);
    t.ok(hasValidFingerprint(reply));
    t.same(decodeBindingResponse(reply), {
      ok: true,
      response: {
        transactionId: TID,
        mappedAddress: { family: 4, address: '192.0.2.44', port: 5000 },
        software: IDENTITY.software,
        podName: IDENTITY.podName,
        nodeName: IDENTITY.nodeName,
        sessionRequestCount: 42,
      },
    });
  });

  t.test('a full IPv6 reply decodes in the oracle and in ours', async (t) => {
    const reply = encodeBindingSuccess({ transactionId: TID, mapped: { address: '2001:db8::7', port: 1 }, identity: IDENTITY, sessionRequestCount: 1 });
    t.doesNotThrow(() => stun.decode(reply));
    t.ok(hasValidFingerprint(reply));
    const ours = decodeBindingResponse(reply);
    t.same(ours.ok && ours.response.mappedAddress, { family: 6, address: '2001:db8::7', port: 1 });
  });
});

t.test('BindingResponseEncoder', async (t) => {
  const encoder = new BindingResponseEncoder(IDENTITY);
  /** The reply to a request carrying TID, for a client at `address`:`port`. */
  const replyTo = (address: string, port: number, count: number | undefined, budget: number): Buffer =>
    encoder.encodeReply(encodeBindingRequest({ transactionId: TID }), parseIp(address)!.bytes, port, count, budget);

  t.test('encodeReply() never answers larger than the budget, except the bare header + XOR-MAPPED-ADDRESS', async (t) => {
    for (const [address, bare] of [['192.0.2.1', 32], ['2001:db8::1', 44]] as const) {
      for (let budget = 0; budget <= encoder.fullReplySize() + 8; budget++) {
        const reply = replyTo(address, 3478, 7, budget);
        if (reply.length > budget) t.equal(reply.length, bare, `budget ${budget}: only the bare reply may exceed it`);
        t.equal(checkMessage(reply), undefined, `budget ${budget}: well formed`);
        t.equal(reply.length % 4, 0);
      }
    }
  });

  t.test('encodeReply() adds attributes in priority order: counter, pod, node, SOFTWARE, then FINGERPRINT', async (t) => {
    const typesAt = (budget: number): number[] => attributesOf(replyTo('192.0.2.1', 3478, 7, budget)).map(([type]) => type);
    const X = Attribute.XorMappedAddress;
    t.same(typesAt(32), [X]);
    t.same(typesAt(40), [X, Attribute.SessionRequestCount]);
    const pod = attributeSize(Buffer.byteLength(IDENTITY.podName));
    const node = attributeSize(Buffer.byteLength(IDENTITY.nodeName));
    const software = attributeSize(Buffer.byteLength(IDENTITY.software));
    t.same(typesAt(40 + pod), [X, Attribute.PodName, Attribute.SessionRequestCount]);
    t.same(typesAt(40 + pod + node), [X, Attribute.PodName, Attribute.NodeName, Attribute.SessionRequestCount]);
    t.same(typesAt(40 + pod + node + software), [X, Attribute.Software, Attribute.PodName, Attribute.NodeName, Attribute.SessionRequestCount]);
    t.same(typesAt(48 + pod + node + software), [
      X,
      Attribute.Software,
      Attribute.PodName,
      Attribute.NodeName,
      Attribute.SessionRequestCount,
      Attribute.Fingerprint,
    ]);
  });

  t.test('fullReplySize() is the smallest budget that carries every attribute for an IPv6 client', async (t) => {
    const full = replyTo('2001:db8::1', 3478, 1, encoder.fullReplySize());
    t.equal(full.length, encoder.fullReplySize());
    t.equal(attributesOf(full).length, 6);
    t.equal(attributesOf(replyTo('2001:db8::1', 3478, 1, encoder.fullReplySize() - 1)).length, 5);
    const request = encodeBindingRequest({ transactionId: TID, size: encoder.fullReplySize() });
    const decoded = decodeBindingResponse(replyTo('2001:db8::1', 3478, 3, request.length));
    t.ok(decoded.ok && decoded.response.podName === IDENTITY.podName && decoded.response.sessionRequestCount === 3);
  });

  t.test('encodeReply() at every budget gives our decoder the client address, the oracle the IPv4 one, and a valid FINGERPRINT', async (t) => {
    // The oracle decodes an IPv6 XOR-MAPPED-ADDRESS wrongly (it reads RFC 5769 section 2.3's
    // sample as 2001:db8:a5d3:f179:...), so IPv6 rests on that vector and the hand-built XOR above.
    for (const address of ['198.51.100.200', '2001:db8:ffff::abcd']) {
      const family = address.includes(':') ? 6 : 4;
      for (const budget of [28, 40, 70, 120, encoder.fullReplySize()]) {
        const reply = replyTo(address, 65535, 123456, budget);
        const oracle = stun.decode(reply);
        t.same(oracle.transactionId, TID, `${address} budget ${budget}: the oracle reads the transaction id`);
        if (family === 4) t.same(oracle.getXorAddress(), { address, port: 65535, family: 'IPv4' }, `${address} budget ${budget}: the oracle reads the address`);
        if (attributesOf(reply).some(([type]) => type === Attribute.Fingerprint)) t.ok(hasValidFingerprint(reply), `${address} budget ${budget}: FINGERPRINT`);
        const ours = decodeBindingResponse(reply);
        t.same(ours.ok && ours.response.mappedAddress, { family, address, port: 65535 }, `${address} budget ${budget}: ours reads the address`);
      }
    }
  });

  t.test('a reply without a session counter leaves SESSION-REQUEST-COUNT out', async (t) => {
    const reply = encodeBindingSuccess({ transactionId: TID, mapped: { address: '192.0.2.1', port: 9 }, identity: IDENTITY });
    const decoded = decodeBindingResponse(reply);
    t.ok(decoded.ok);
    t.equal(decoded.ok && decoded.response.sessionRequestCount, undefined);
  });

  t.test('encodeBindingSuccess() of something that is not an IP throws TypeError', async (t) => {
    t.throws(() => encodeBindingSuccess({ transactionId: TID, mapped: { address: 'example.com', port: 1 }, identity: IDENTITY }), TypeError);
  });
});
