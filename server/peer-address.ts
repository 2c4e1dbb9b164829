// The address node:dgram reports for a peer, turned into the bytes XOR-MAPPED-ADDRESS carries.
//
// This runs for every datagram, so the common cases are parsed by hand into a scratch buffer
// without allocating: dotted IPv4 (`192.0.2.1`, an IPv4 socket) and IPv4-mapped IPv6
// (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 peer; RFC 4291 section
// 2.5.5.2). A mapped peer is reported as IPv4, the address it really has. Other IPv6 addresses go
// through the general parser.
import { parseIp } from '../common/ip-address.js';

const MAPPED_PREFIX = '::ffff:';

export class PeerAddressParser {
  private readonly v4 = Buffer.alloc(4);

  /**
   * The peer's address bytes (4 or 16), or undefined if `text` is not an IP address. The
   * returned buffer may be reused by the next call: copy it before keeping it.
   */
  parse(text: string): Buffer | undefined {
    const start = text.startsWith(MAPPED_PREFIX) ? MAPPED_PREFIX.length : 0;
    if (this.parseDottedQuad(text, start)) return this.v4;
    if (text.indexOf(':') === -1) return undefined;
    return parseIp(text)?.bytes;
  }

  /** Strict dotted quad (four decimal parts, 0-255, no leading zeros) from `start` to the end. */
  private parseDottedQuad(text: string, start: number): boolean {
    const v4 = this.v4;
    let part = 0;
    let value = 0;
    let digits = 0;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 46 /* . */) {
        if (digits === 0 || part === 3) return false;
        v4[part++] = value;
        value = 0;
        digits = 0;
      } else if (c >= 48 && c <= 57) {
        if (digits > 0 && value === 0) return false;
        value = value * 10 + (c - 48);
        if (value > 255) return false;
        digits++;
      } else {
        return false;
      }
    }
    if (part !== 3 || digits === 0) return false;
    v4[3] = value;
    return true;
  }
}
