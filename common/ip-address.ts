// IP address text <-> bytes, for XOR-MAPPED-ADDRESS. node:net can tell whether a string is an
// address but cannot turn one into bytes, so we do it here, without throwing on bad input.
import { isIPv4, isIPv6 } from 'node:net';

export interface IpBytes {
  family: 4 | 6;
  bytes: Buffer;
}

/**
 * Parses an IPv4 or IPv6 address. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a
 * dual-stack socket reports for an IPv4 peer) comes back as IPv4, since that is the address
 * the peer really has. A zone (`fe80::1%eth0`) is ignored. Returns undefined for anything else.
 */
export function parseIp(text: string): IpBytes | undefined {
  if (isIPv4(text)) return { family: 4, bytes: ipv4Bytes(text) };
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(bare)) return undefined;
  const bytes = ipv6Bytes(bare);
  if (isV4Mapped(bytes)) return { family: 4, bytes: bytes.subarray(12) };
  return { family: 6, bytes };
}

function ipv4Bytes(text: string): Buffer {
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      out[part++] = value;
      value = 0;
    } else {
      value = value * 10 + (c - 48);
    }
  }
  out[part] = value;
  return out;
}

function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  const gap = text.indexOf('::');
  const head = gap === -1 ? text : text.slice(0, gap);
  const tail = gap === -1 ? '' : text.slice(gap + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const write = (groups: string[], start: number): void => {
    let offset = start;
    for (const group of groups) {
      if (group.includes('.')) {
        ipv4Bytes(group).copy(out, offset);
        offset += 4;
      } else {
        out.writeUInt16BE(parseInt(group, 16), offset);
        offset += 2;
      }
    }
  };
  write(headGroups, 0);
  const tailLength = tailGroups.reduce((n, g) => n + (g.includes('.') ? 4 : 2), 0);
  write(tailGroups, 16 - tailLength);
  return out;
}

function isV4Mapped(bytes: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Formats 4 or 16 address bytes; IPv6 in the RFC 5952 canonical form. */
export function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  // RFC 5952 section 4.2: compress the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** `192.0.2.1:3478` or `[2001:db8::1]:3478`. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
