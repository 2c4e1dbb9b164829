// Binding Requests for every session from one template: each request copies it and writes its
// own transaction id and FINGERPRINT, so the hot path allocates one small Buffer and runs one
// CRC instead of building the message attribute by attribute.
import { encodeBindingRequest } from '../common/stun/codec.js';
import { crc32 } from '../common/stun/crc32.js';
import { FINGERPRINT_XOR, TRANSACTION_ID_LENGTH } from '../common/stun/constants.js';
import { writeTransactionId } from '../common/stun/transaction-id.js';

export class RequestEncoder {
  private readonly template: Buffer;

  /** `size`: pad requests with PADDING to at least this many bytes (see --payload-size). */
  constructor(size: number) {
    this.template = encodeBindingRequest({ transactionId: Buffer.alloc(TRANSACTION_ID_LENGTH), size, fingerprint: true });
  }

  get size(): number {
    return this.template.length;
  }

  encode(sessionId: number, sequence: number, tag: number): Buffer {
    const message = Buffer.allocUnsafe(this.template.length);
    this.template.copy(message);
    writeTransactionId(message, 8, sessionId, sequence, tag);
    // RFC 8489 section 14.7: FINGERPRINT (the last 8 bytes) is the CRC-32 of everything before
    // it, XOR 0x5354554e; the new transaction id changes it.
    const at = message.length - 4;
    message.writeUInt32BE((crc32(message, 0, at - 4) ^ FINGERPRINT_XOR) >>> 0, at);
    return message;
  }
}
