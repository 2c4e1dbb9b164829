import t from 'tap';
import {
  MAX_SESSION_INDEX,
  encodeTransactionId,
  newRunId,
  readSequence,
  readSessionId,
  sessionIdOf,
  writeTransactionId,
} from '../../../common/stun/transaction-id.js';

t.test('encodeTransactionId() lays out session id (6 bytes), sequence (4 bytes), random (2 bytes)', async (t) => {
  const id = encodeTransactionId(0x0102030405a6, 0xdeadbeef, 0xcafe);
  t.equal(id.toString('hex'), '0102030405a6' + 'deadbeef' + 'cafe');
  t.equal(readSessionId(id), 0x0102030405a6);
  t.equal(readSequence(id), 0xdeadbeef);
});

t.test('sessionIdOf() puts the run id in the top 24 bits and the index in the low 24', async (t) => {
  const sessionId = sessionIdOf(0xabcdef, 0x000102);
  t.equal(sessionId, 0xabcdef000102);
  t.equal(encodeTransactionId(sessionId, 0).subarray(0, 6).toString('hex'), 'abcdef000102');
  t.equal(sessionIdOf(0xffffff, MAX_SESSION_INDEX), 2 ** 48 - 1, 'the largest id stays a safe integer');
});

t.test('sessionIdOf() of an index outside 24 bits throws RangeError', async (t) => {
  t.throws(() => sessionIdOf(1, MAX_SESSION_INDEX + 1), RangeError);
  t.throws(() => sessionIdOf(1, -1), RangeError);
});

t.test('writeTransactionId() writes at an offset, as the server reads it in place (offset 8 of a message)', async (t) => {
  const message = Buffer.alloc(20);
  writeTransactionId(message, 8, 0x123456789abc, 7, 0x10001);
  t.equal(readSessionId(message, 8), 0x123456789abc);
  t.equal(readSequence(message, 8), 7);
  t.equal(message.readUInt16BE(18), 0x0001, 'random bits are cut to 16');
});

t.test('sequence numbers wrap at 32 bits', async (t) => {
  t.equal(readSequence(encodeTransactionId(1, 2 ** 32 + 5)), 5);
});

t.test('newRunId() is 24 bits and varies', async (t) => {
  const ids = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const id = newRunId();
    t.ok(id >= 0 && id <= 0xffffff);
    ids.add(id);
  }
  t.ok(ids.size > 40, `${ids.size} distinct run ids out of 50`);
});
