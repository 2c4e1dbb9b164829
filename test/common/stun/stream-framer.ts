import t from 'tap';
import { encodeBindingRequest } from '../../../common/stun/codec.js';
import { StunStreamFramer, type FramedChunk } from '../../../common/stun/stream-framer.js';
import { encodeTransactionId } from '../../../common/stun/transaction-id.js';

/** Three requests of different sizes (28, 72 and 128 bytes with FINGERPRINT), back to back. */
const MESSAGES = [
  encodeBindingRequest({ transactionId: encodeTransactionId(1, 0) }),
  encodeBindingRequest({ transactionId: encodeTransactionId(1, 1), size: 72 }),
  encodeBindingRequest({ transactionId: encodeTransactionId(1, 2), size: 128 }),
];
const STREAM = Buffer.concat(MESSAGES);

/** Everything the framer returns for `chunks`, with the messages copied out and hex-encoded. */
function frame(chunks: Buffer[], framer = new StunStreamFramer()): { messages: string[]; failure?: string; buffered: number } {
  const messages: string[] = [];
  let failure: string | undefined;
  for (const chunk of chunks) {
    const result: FramedChunk = framer.push(chunk);
    messages.push(...result.messages.map((m) => m.toString('hex')));
    if (result.failure !== undefined) failure ??= result.failure;
  }
  return failure === undefined ? { messages, buffered: framer.bufferedBytes } : { messages, failure, buffered: framer.bufferedBytes };
}

/** A 20-byte STUN-looking header with the given first byte, length field and cookie. */
function header(first: number, length: number, cookie = 0x2112a442): Buffer {
  const h = Buffer.alloc(20);
  h[0] = first;
  h[1] = 0x01;
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(cookie, 4);
  return h;
}

t.test('StunStreamFramer.push() of whole messages in one chunk returns each of them', async (t) => {
  t.same(frame([STREAM]), { messages: MESSAGES.map((m) => m.toString('hex')), buffered: 0 });
  t.same(MESSAGES.map((m) => m.length), [28, 72, 128], 'the sizes the test means to cover');
});

t.test('StunStreamFramer.push() cut at every byte boundary returns the same messages as one chunk', async (t) => {
  const expected = frame([STREAM]);
  for (let cut = 1; cut < STREAM.length; cut++) {
    t.same(frame([STREAM.subarray(0, cut), STREAM.subarray(cut)]), expected, `cut at ${cut}`);
  }
  const bytes = [...STREAM].map((byte) => Buffer.from([byte]));
  t.same(frame(bytes), expected, 'one byte at a time');
});

t.test('StunStreamFramer.push() returns a message exactly when its last byte arrives, and holds only the tail', async (t) => {
  const framer = new StunStreamFramer();
  const first = MESSAGES[0]!;
  t.same(framer.push(first.subarray(0, 27)).messages, []);
  t.equal(framer.bufferedBytes, 27);
  const done = framer.push(Buffer.concat([first.subarray(27), MESSAGES[1]!.subarray(0, 5)]));
  t.same(done.messages.map((m) => m.toString('hex')), [first.toString('hex')]);
  t.equal(framer.bufferedBytes, 5, 'only the start of the next message is kept');
});

t.test('StunStreamFramer.push() of a message that ends a chunk returns a view of it, without a copy', async (t) => {
  const chunk = Buffer.concat(MESSAGES.slice(0, 2));
  const { messages } = new StunStreamFramer().push(chunk);
  t.equal(messages[1]!.buffer, chunk.buffer);
  t.equal(messages[1]!.byteOffset, chunk.byteOffset + 28);
});

t.test('StunStreamFramer.push() of HTTP fails with not-stun on the first byte', async (t) => {
  t.same(frame([Buffer.from('G')]), { messages: [], failure: 'not-stun', buffered: 0 });
  t.same(frame([Buffer.from('GET / HTTP/1.1\r\n\r\n')]), { messages: [], failure: 'not-stun', buffered: 0 });
});

t.test('StunStreamFramer.push() of a TLS ClientHello (first byte 0x16) fails on its length or its cookie', async (t) => {
  // A TLS record header is 16 03 01 then a 16-bit length: the first two bits are zero.
  t.same(frame([Buffer.from([0x16, 0x03, 0x01])]), { messages: [], buffered: 3 });
  t.same(frame([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])]).failure, 'bad-length', 'bytes 2-3, the STUN length, read 0x0102: not a multiple of 4');
  t.same(frame([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03])]).failure, 'bad-cookie', 'bytes 2-3 read 0x0100, then no cookie');
});

t.test('StunStreamFramer.push() of a length that is not a multiple of 4 fails with bad-length at its fourth byte', async (t) => {
  const bad = header(0x00, 6);
  t.same(frame([bad.subarray(0, 3)]), { messages: [], buffered: 3 });
  t.same(frame([bad.subarray(0, 3), bad.subarray(3, 4)]), { messages: [], failure: 'bad-length', buffered: 0 });
});

t.test('StunStreamFramer.push() of a header larger than the bound fails with too-large before the body arrives', async (t) => {
  t.same(frame([header(0x00, 2028)], new StunStreamFramer(2048)).failure, undefined, 'exactly the bound is fine');
  t.same(frame([header(0x00, 2032)], new StunStreamFramer(2048)), { messages: [], failure: 'too-large', buffered: 0 });
  t.same(frame([header(0x00, 0xfffc)]).failure, 'too-large', 'the default bound is below the largest length');
});

t.test('StunStreamFramer.push() of a wrong magic cookie fails with bad-cookie', async (t) => {
  t.same(frame([header(0x00, 0, 0xdeadbeef)]), { messages: [], failure: 'bad-cookie', buffered: 0 });
});

t.test('StunStreamFramer.push() returns the messages before garbage with the failure, however the stream is cut', async (t) => {
  const stream = Buffer.concat([MESSAGES[0]!, MESSAGES[1]!, Buffer.from('garbage')]);
  const expected = { messages: [MESSAGES[0]!.toString('hex'), MESSAGES[1]!.toString('hex')], failure: 'not-stun', buffered: 0 };
  t.same(frame([stream]), expected);
  for (let cut = 1; cut < stream.length; cut++) t.same(frame([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
});

t.test('StunStreamFramer.push() after a failure returns the failure again and nothing else', async (t) => {
  const framer = new StunStreamFramer();
  t.equal(framer.push(Buffer.from('x')).failure, 'not-stun');
  t.same(framer.push(MESSAGES[0]!), { messages: [], failure: 'not-stun' });
});

t.test('StunStreamFramer.push() of an empty chunk returns nothing and changes nothing', async (t) => {
  const framer = new StunStreamFramer();
  framer.push(MESSAGES[0]!.subarray(0, 10));
  t.same(framer.push(Buffer.alloc(0)), { messages: [] });
  t.equal(framer.bufferedBytes, 10);
});
