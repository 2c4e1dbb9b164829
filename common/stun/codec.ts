// The STUN codec (RFC 8489), pure: Buffers in, Buffers or results out, no sockets.
// Decoding never throws; bad input comes back as a reason that callers can count.
import { formatIp, parseIp } from '../ip-address.js';
import { crc32 } from './crc32.js';
import { Attribute, Family, FINGERPRINT_XOR, HEADER_LENGTH, MAGIC_COOKIE, MessageType, TRANSACTION_ID_LENGTH } from './constants.js';

export type DecodeFailure =
  /** The first two bits are not zero (RFC 8489 section 5): some other protocol. */
  | 'not-stun'
  /** Shorter than a STUN header. */
  | 'truncated'
  /** The header's length disagrees with the datagram, or is not a multiple of 4. */
  | 'bad-length'
  /** No magic cookie: not RFC 5389/8489 STUN. */
  | 'bad-cookie'
  /** An attribute runs past the end of the message. */
  | 'truncated-attribute'
  /** FINGERPRINT is present but not the last attribute (RFC 8489 section 14.7). */
  | 'fingerprint-not-last'
  /** FINGERPRINT does not match the message's CRC-32. */
  | 'bad-fingerprint'
  /** A (XOR-)MAPPED-ADDRESS with an unknown family or the wrong length. */
  | 'bad-address';

export interface StunAttribute {
  type: number;
  value: Buffer;
}

export interface StunMessage {
  type: number;
  transactionId: Buffer;
  attributes: StunAttribute[];
  hasFingerprint: boolean;
}

export type DecodeResult = { ok: true; message: StunMessage } | { ok: false; reason: DecodeFailure };

export interface TransportAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

/**
 * Checks a datagram's STUN structure without allocating (the CRC is computed in place): header,
 * lengths, attribute bounds and FINGERPRINT. Returns undefined when the message is well formed.
 * The server's hot path uses this directly; decode() builds on it.
 */
export function checkMessage(datagram: Buffer): DecodeFailure | undefined {
  const size = datagram.length;
  if (size > 0 && (datagram[0]! & 0xc0) !== 0) return 'not-stun';
  if (size < HEADER_LENGTH) return 'truncated';
  const length = datagram.readUInt16BE(2);
  if (length !== size - HEADER_LENGTH || (length & 3) !== 0) return 'bad-length';
  if (datagram.readUInt32BE(4) !== MAGIC_COOKIE) return 'bad-cookie';
  let offset = HEADER_LENGTH;
  while (offset < size) {
    if (offset + 4 > size) return 'truncated-attribute';
    const type = datagram.readUInt16BE(offset);
    const valueLength = datagram.readUInt16BE(offset + 2);
    const next = offset + 4 + ((valueLength + 3) & ~3);
    if (next > size) return 'truncated-attribute';
    if (type === Attribute.Fingerprint) {
      if (next !== size || valueLength !== 4) return 'fingerprint-not-last';
      if (datagram.readUInt32BE(offset + 4) !== fingerprintOf(datagram, offset)) return 'bad-fingerprint';
    }
    offset = next;
  }
  return undefined;
}

/** Decodes any STUN message into its header and attributes. */
export function decode(datagram: Buffer): DecodeResult {
  const failure = checkMessage(datagram);
  if (failure !== undefined) return { ok: false, reason: failure };
  const attributes: StunAttribute[] = [];
  let hasFingerprint = false;
  let offset = HEADER_LENGTH;
  while (offset < datagram.length) {
    const type = datagram.readUInt16BE(offset);
    const valueLength = datagram.readUInt16BE(offset + 2);
    if (type === Attribute.Fingerprint) hasFingerprint = true;
    else attributes.push({ type, value: datagram.subarray(offset + 4, offset + 4 + valueLength) });
    offset += 4 + ((valueLength + 3) & ~3);
  }
  return {
    ok: true,
    message: {
      type: datagram.readUInt16BE(0),
      transactionId: datagram.subarray(8, HEADER_LENGTH),
      attributes,
      hasFingerprint,
    },
  };
}

/** What a Binding Success Response says, with our attributes when the server sent them. */
export interface BindingResponse {
  transactionId: Buffer;
  mappedAddress?: TransportAddress;
  software?: string;
  podName?: string;
  nodeName?: string;
  sessionRequestCount?: number;
}

export type BindingResponseResult =
  | { ok: true; response: BindingResponse }
  | { ok: false; reason: DecodeFailure | 'not-binding-success' };

/** Decodes a Binding Success Response. XOR-MAPPED-ADDRESS wins over the legacy MAPPED-ADDRESS. */
export function decodeBindingResponse(datagram: Buffer): BindingResponseResult {
  const decoded = decode(datagram);
  if (!decoded.ok) return decoded;
  const { message } = decoded;
  if (message.type !== MessageType.BindingSuccess) return { ok: false, reason: 'not-binding-success' };
  const response: BindingResponse = { transactionId: message.transactionId };
  let legacyAddress: TransportAddress | undefined;
  for (const { type, value } of message.attributes) {
    switch (type) {
      case Attribute.XorMappedAddress: {
        const address = readAddress(value, message.transactionId, true);
        if (address === undefined) return { ok: false, reason: 'bad-address' };
        response.mappedAddress = address;
        break;
      }
      case Attribute.MappedAddress:
        legacyAddress = readAddress(value, message.transactionId, false);
        break;
      case Attribute.Software:
        response.software = value.toString('utf8');
        break;
      case Attribute.PodName:
        response.podName = value.toString('utf8');
        break;
      case Attribute.NodeName:
        response.nodeName = value.toString('utf8');
        break;
      case Attribute.SessionRequestCount:
        if (value.length === 4) response.sessionRequestCount = value.readUInt32BE(0);
        break;
    }
  }
  if (response.mappedAddress === undefined && legacyAddress !== undefined) response.mappedAddress = legacyAddress;
  return { ok: true, response };
}

/** RFC 8489 section 14.1/14.2: (XOR-)MAPPED-ADDRESS value. */
function readAddress(value: Buffer, transactionId: Buffer, xored: boolean): TransportAddress | undefined {
  if (value.length < 4) return undefined;
  const family = value[1];
  const expected = family === Family.IPv4 ? 8 : family === Family.IPv6 ? 20 : -1;
  if (value.length !== expected) return undefined;
  const port = value.readUInt16BE(2) ^ (xored ? MAGIC_COOKIE >>> 16 : 0);
  const bytes = Buffer.from(value.subarray(4));
  if (xored) xorAddressBytes(bytes, transactionId);
  return { family: family === Family.IPv4 ? 4 : 6, address: formatIp(bytes), port };
}

/** RFC 8489 section 14.2: X-Address is XORed with the magic cookie, then the transaction id. */
function xorAddressBytes(bytes: Buffer, transactionId: Buffer): void {
  bytes[0]! ^= 0x21;
  bytes[1]! ^= 0x12;
  bytes[2]! ^= 0xa4;
  bytes[3]! ^= 0x42;
  for (let i = 4; i < bytes.length; i++) bytes[i]! ^= transactionId[i - 4]!;
}

/** RFC 8489 section 14.7: CRC-32 of the message up to the FINGERPRINT attribute, XOR 0x5354554e. */
function fingerprintOf(message: Buffer, fingerprintOffset: number): number {
  // The CRC covers a header whose length already counts the FINGERPRINT attribute; the caller
  // has written that length, so the bytes before the attribute are exactly what is covered.
  return (crc32(message, 0, fingerprintOffset) ^ FINGERPRINT_XOR) >>> 0;
}

/** Writes FINGERPRINT at `offset`, the last 8 bytes of `message`, whose header length is final. */
function writeFingerprint(message: Buffer, offset: number): void {
  message[offset] = Attribute.Fingerprint >>> 8;
  message[offset + 1] = Attribute.Fingerprint & 0xff;
  message[offset + 2] = 0;
  message[offset + 3] = 4;
  const crc = fingerprintOf(message, offset);
  message[offset + 4] = crc >>> 24;
  message[offset + 5] = (crc >>> 16) & 0xff;
  message[offset + 6] = (crc >>> 8) & 0xff;
  message[offset + 7] = crc & 0xff;
}

/** `source` copied into `target` at `offset`; returns its length. */
function copyInto(target: Buffer, source: Buffer, offset: number): number {
  target.set(source, offset);
  return source.length;
}

function writeHeader(target: Buffer, type: number, bodyLength: number, transactionId: Buffer): void {
  target.writeUInt16BE(type, 0);
  target.writeUInt16BE(bodyLength, 2);
  target.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(target, 8, 0, TRANSACTION_ID_LENGTH);
}

/** Size of an attribute carrying `valueLength` bytes, padding included. */
export function attributeSize(valueLength: number): number {
  return 4 + ((valueLength + 3) & ~3);
}

function writeAttribute(target: Buffer, offset: number, type: number, value: Buffer): number {
  target.writeUInt16BE(type, offset);
  target.writeUInt16BE(value.length, offset + 2);
  value.copy(target, offset + 4);
  const end = offset + attributeSize(value.length);
  target.fill(0, offset + 4 + value.length, end);
  return end;
}

export interface BindingRequestOptions {
  transactionId: Buffer;
  /** Pad the request with a PADDING attribute up to at least this many bytes. */
  size?: number;
  software?: string;
  fingerprint?: boolean;
}

/** Encodes a Binding Request, padded so the server may answer with our attributes. */
export function encodeBindingRequest(options: BindingRequestOptions): Buffer {
  const software = options.software === undefined ? undefined : Buffer.from(options.software, 'utf8');
  const fingerprint = options.fingerprint ?? true;
  const base = HEADER_LENGTH + (software ? attributeSize(software.length) : 0) + (fingerprint ? 8 : 0);
  const padding = options.size !== undefined && options.size > base ? Math.max(0, options.size - base - 4) : undefined;
  const size = base + (padding === undefined ? 0 : attributeSize(padding));
  const message = Buffer.allocUnsafe(size);
  writeHeader(message, MessageType.BindingRequest, size - HEADER_LENGTH, options.transactionId);
  let offset = HEADER_LENGTH;
  if (software) offset = writeAttribute(message, offset, Attribute.Software, software);
  if (padding !== undefined) offset = writeAttribute(message, offset, Attribute.Padding, Buffer.alloc(padding));
  if (fingerprint) writeFingerprint(message, offset);
  return message;
}

const WITH_COUNT = 1;
const WITH_POD = 2;
const WITH_NODE = 4;
const WITH_SOFTWARE = 8;
const WITH_FINGERPRINT = 16;
const WITH_IDENTITY = WITH_SOFTWARE | WITH_POD | WITH_NODE;
const PLAN_SIZE_SHIFT = 5;

export interface ServerIdentity {
  software: string;
  podName?: string;
  nodeName?: string;
}

/**
 * Builds Binding Success Responses. The identity attributes are encoded once, here, so each
 * reply only copies them.
 *
 * Anti-amplification: a reply is never larger than `budget` (the request's size), except that
 * XOR-MAPPED-ADDRESS always goes out, since every STUN client needs it. The optional attributes
 * are added in priority order while they fit: the session counter, pod, node, SOFTWARE, then
 * FINGERPRINT. They are always written in wire order, FINGERPRINT last.
 */
export class BindingResponseEncoder {
  private readonly software: Buffer;
  private readonly podName: Buffer | undefined;
  private readonly nodeName: Buffer | undefined;
  /** SOFTWARE, POD-NAME and NODE-NAME back to back, copied at once when all three fit. */
  private readonly identity: Buffer | undefined;

  constructor(identity: ServerIdentity) {
    this.software = encodeTextAttribute(Attribute.Software, identity.software);
    this.podName = identity.podName ? encodeTextAttribute(Attribute.PodName, identity.podName) : undefined;
    this.nodeName = identity.nodeName ? encodeTextAttribute(Attribute.NodeName, identity.nodeName) : undefined;
    this.identity = this.podName && this.nodeName ? Buffer.concat([this.software, this.podName, this.nodeName]) : undefined;
  }

  /**
   * The reply to `request` (a checked Binding Request; its transaction id is read in place) for
   * a client at `addressBytes` (4 or 16 bytes) and `port`. The server's hot path: the reply is the
   * only allocation.
   */
  encodeReply(request: Buffer, addressBytes: Buffer, port: number, sessionRequestCount: number | undefined, budget: number): Buffer {
    const addressLength = addressBytes.length;
    const xmaSize = 8 + addressLength;
    const parts = this.plan(xmaSize, sessionRequestCount, budget);
    const size = parts >>> PLAN_SIZE_SHIFT;
    const reply = Buffer.allocUnsafe(size);
    // Byte by byte: Buffer's write and copy methods check their arguments on every call, which
    // costs more than the writes themselves at this size.
    const bodyLength = size - HEADER_LENGTH;
    reply[0] = MessageType.BindingSuccess >>> 8;
    reply[1] = MessageType.BindingSuccess & 0xff;
    reply[2] = bodyLength >>> 8;
    reply[3] = bodyLength & 0xff;
    reply[4] = 0x21;
    reply[5] = 0x12;
    reply[6] = 0xa4;
    reply[7] = 0x42;
    for (let i = 8; i < HEADER_LENGTH; i++) reply[i] = request[i]!;
    // RFC 8489 section 14.2: family, port XOR the cookie's top half, address XOR cookie + id.
    const xPort = (port ^ (MAGIC_COOKIE >>> 16)) & 0xffff;
    reply[20] = Attribute.XorMappedAddress >>> 8;
    reply[21] = Attribute.XorMappedAddress & 0xff;
    reply[22] = 0;
    reply[23] = 4 + addressLength;
    reply[24] = 0;
    reply[25] = addressLength === 4 ? Family.IPv4 : Family.IPv6;
    reply[26] = xPort >>> 8;
    reply[27] = xPort & 0xff;
    reply[28] = addressBytes[0]! ^ 0x21;
    reply[29] = addressBytes[1]! ^ 0x12;
    reply[30] = addressBytes[2]! ^ 0xa4;
    reply[31] = addressBytes[3]! ^ 0x42;
    for (let i = 4; i < addressLength; i++) reply[28 + i] = addressBytes[i]! ^ request[8 + i - 4]!;
    this.writeOptional(reply, HEADER_LENGTH + xmaSize, parts, sessionRequestCount);
    return reply;
  }

  /**
   * Which optional attributes fit the budget, in priority order (counter, pod, node, SOFTWARE,
   * FINGERPRINT), packed with the reply size into one number so planning allocates nothing.
   */
  private plan(xmaSize: number, sessionRequestCount: number | undefined, budget: number): number {
    let size = HEADER_LENGTH + xmaSize;
    let parts = 0;
    if (sessionRequestCount !== undefined && size + 8 <= budget) {
      size += 8;
      parts |= WITH_COUNT;
    }
    if (this.podName !== undefined && size + this.podName.length <= budget) {
      size += this.podName.length;
      parts |= WITH_POD;
    }
    if (this.nodeName !== undefined && size + this.nodeName.length <= budget) {
      size += this.nodeName.length;
      parts |= WITH_NODE;
    }
    if (size + this.software.length <= budget) {
      size += this.software.length;
      parts |= WITH_SOFTWARE;
    }
    if (size + 8 <= budget) {
      size += 8;
      parts |= WITH_FINGERPRINT;
    }
    return parts | (size << PLAN_SIZE_SHIFT);
  }

  /** Writes the planned optional attributes after XOR-MAPPED-ADDRESS, in wire order. */
  private writeOptional(reply: Buffer, offset: number, parts: number, sessionRequestCount: number | undefined): void {
    if ((parts & WITH_IDENTITY) === WITH_IDENTITY) {
      // The usual case: SOFTWARE, POD-NAME and NODE-NAME all fit, and sit side by side.
      reply.set(this.identity!, offset);
      offset += this.identity!.length;
    } else {
      if (parts & WITH_SOFTWARE) offset += copyInto(reply, this.software, offset);
      if (parts & WITH_POD) offset += copyInto(reply, this.podName!, offset);
      if (parts & WITH_NODE) offset += copyInto(reply, this.nodeName!, offset);
    }
    if (parts & WITH_COUNT) {
      const count = sessionRequestCount! >>> 0;
      reply[offset] = Attribute.SessionRequestCount >>> 8;
      reply[offset + 1] = Attribute.SessionRequestCount & 0xff;
      reply[offset + 2] = 0;
      reply[offset + 3] = 4;
      reply[offset + 4] = count >>> 24;
      reply[offset + 5] = (count >>> 16) & 0xff;
      reply[offset + 6] = (count >>> 8) & 0xff;
      reply[offset + 7] = count & 0xff;
      offset += 8;
    }
    if (parts & WITH_FINGERPRINT) writeFingerprint(reply, offset);
  }

  /** The request size that lets a reply carry every attribute, for an IPv6 client (the larger). */
  fullReplySize(): number {
    return (
      HEADER_LENGTH +
      attributeSize(20) +
      8 +
      (this.podName?.length ?? 0) +
      (this.nodeName?.length ?? 0) +
      this.software.length +
      8
    );
  }
}

function encodeTextAttribute(type: number, text: string): Buffer {
  const value = Buffer.from(text, 'utf8');
  const attribute = Buffer.allocUnsafe(attributeSize(value.length));
  writeAttribute(attribute, 0, type, value);
  return attribute;
}

/**
 * A Binding Success Response built in one call, for tests and tools: the server's encoder,
 * handed a bare request header that carries `transactionId`.
 */
export function encodeBindingSuccess(options: {
  transactionId: Buffer;
  mapped: { address: string; port: number };
  identity: ServerIdentity;
  sessionRequestCount?: number;
  budget?: number;
}): Buffer {
  const ip = parseIp(options.mapped.address);
  if (ip === undefined) throw new TypeError(`not an IP address: ${options.mapped.address}`);
  const request = Buffer.alloc(HEADER_LENGTH);
  options.transactionId.copy(request, 8, 0, TRANSACTION_ID_LENGTH);
  return new BindingResponseEncoder(options.identity).encodeReply(
    request,
    ip.bytes,
    options.mapped.port,
    options.sessionRequestCount,
    options.budget ?? Number.MAX_SAFE_INTEGER,
  );
}
