// The 96-bit transaction id carries what the client needs to track loss, so that any
// standards-conformant STUN server, which must echo it (RFC 8489 section 6.3.1), works:
//
//   bytes 0-5   session id (48 bits: 24 random bits per client run + 24-bit session index,
//               so sessions of clients running in parallel do not collide on the server)
//   bytes 6-9   sequence number of the request within the session (uint32)
//   bytes 10-11 random bits
import { randomBytes } from 'node:crypto';
import { TRANSACTION_ID_LENGTH } from './constants.js';

export const MAX_SESSION_INDEX = 0xffffff;

/** A random 24-bit prefix identifying one client run. */
export function newRunId(): number {
  return randomBytes(3).readUIntBE(0, 3);
}

/** Session id of the session at `index` in the run `runId`. */
export function sessionIdOf(runId: number, index: number): number {
  if (index < 0 || index > MAX_SESSION_INDEX) throw new RangeError(`session index ${index} out of range`);
  return (runId & 0xffffff) * 0x1000000 + index;
}

export function writeTransactionId(target: Buffer, offset: number, sessionId: number, sequence: number, random: number): void {
  target.writeUIntBE(sessionId, offset, 6);
  target.writeUInt32BE(sequence >>> 0, offset + 6);
  target.writeUInt16BE(random & 0xffff, offset + 10);
}

export function encodeTransactionId(sessionId: number, sequence: number, random = Math.floor(Math.random() * 0x10000)): Buffer {
  const id = Buffer.allocUnsafe(TRANSACTION_ID_LENGTH);
  writeTransactionId(id, 0, sessionId, sequence, random);
  return id;
}

export function readSessionId(transactionId: Buffer, offset = 0): number {
  return transactionId.readUIntBE(offset, 6);
}

export function readSequence(transactionId: Buffer, offset = 0): number {
  return transactionId.readUInt32BE(offset + 6);
}
