// STUN messages cut out of a byte stream (RFC 8489 section 6.2.2): over TCP, messages follow each
// other with no extra framing, and each one's size is its 20-byte header plus the header's
// length field. Pure: chunks in, whole messages or a reason to give up on the stream out. The
// server uses it, and the TCP client is to use the same one.
//
// A stream that does not look like STUN cannot be resynchronised (there is no marker to search
// for), so the first bad header ends it. Each check runs as soon as its bytes are there, so a
// peer sending HTTP or TLS is caught on its first byte rather than after a header's worth.
import { HEADER_LENGTH, MAGIC_COOKIE } from './constants.js';

export type FramingFailure =
  /** The first two bits are not zero (RFC 8489 section 5): another protocol on the stream. */
  | 'not-stun'
  /** The length field is not a multiple of 4 (RFC 8489 section 5: attributes are padded). */
  | 'bad-length'
  /** No magic cookie where it belongs: not RFC 5389/8489 STUN. */
  | 'bad-cookie'
  /** The header announces a message larger than the bound. */
  | 'too-large';

export const FRAMING_FAILURES: readonly FramingFailure[] = ['not-stun', 'bad-length', 'bad-cookie', 'too-large'];

export interface FramedChunk {
  /** The whole messages completed by this chunk, in order; each one is [header, body]. */
  messages: readonly Buffer[];
  /** Set once the stream is garbage; messages before the bad header are still returned. */
  failure?: FramingFailure;
}

/**
 * Our requests and replies are a few hundred bytes; the bound only has to keep a peer from making
 * us hold up to 64 KiB for each connection while it trickles in.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 2048;

/** The result of a chunk that completes nothing, shared so the common partial case allocates nothing. */
const NOTHING: FramedChunk = Object.freeze({ messages: Object.freeze([]) });

export class StunStreamFramer {
  /** Bytes of a message not complete yet (copied: a chunk is not kept alive for a tail of it). */
  private pending: Buffer | undefined;
  private failure: FramingFailure | undefined;

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Bytes held for a message that is not complete yet. */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** Takes the next chunk of the stream. After a failure, every later call returns it again. */
  push(chunk: Buffer): FramedChunk {
    if (this.failure !== undefined) return { messages: [], failure: this.failure };
    if (chunk.length === 0) return NOTHING;
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let messages: Buffer[] | undefined;
    let offset = 0;
    while (offset < data.length) {
      const available = data.length - offset;
      const failure = this.checkHeader(data, offset, available);
      if (failure !== undefined) {
        this.failure = failure;
        return { messages: messages ?? [], failure };
      }
      if (available < HEADER_LENGTH) break;
      const size = HEADER_LENGTH + data.readUInt16BE(offset + 2);
      if (available < size) break;
      (messages ??= []).push(data.subarray(offset, offset + size));
      offset += size;
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
    return messages === undefined ? NOTHING : { messages };
  }

  /** The header checks that the first `available` bytes at `offset` allow. */
  private checkHeader(data: Buffer, offset: number, available: number): FramingFailure | undefined {
    if ((data[offset]! & 0xc0) !== 0) return 'not-stun';
    if (available < 4) return undefined;
    const length = data.readUInt16BE(offset + 2);
    if ((length & 3) !== 0) return 'bad-length';
    if (HEADER_LENGTH + length > this.maxMessageBytes) return 'too-large';
    if (available < 8) return undefined;
    if (data.readUInt32BE(offset + 4) !== MAGIC_COOKIE) return 'bad-cookie';
    return undefined;
  }
}
