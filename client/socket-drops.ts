// Datagrams the kernel dropped on a UDP socket because its receive buffer was full. A loss tester
// must not lose datagrams itself; when the kernel did, the run says so, since those replies were
// counted as lost although the network delivered them. Linux only (/proc/net/udp*); elsewhere the
// figure is unknown (undefined).
//
// A socket is known by its local address AND port: several sockets share a port on different
// addresses (clients bound to 127.0.0.2 and 127.0.0.3, a server and a client on one machine), and
// counting by port alone would add another socket's drops to ours.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { formatIp, parseIp } from '../common/ip-address.js';

export interface UdpSocketAddress {
  /** As the socket reports it (`socket.address().address`): `127.0.0.2`, `::1`, `0.0.0.0`. */
  address: string;
  port: number;
}

export interface UdpSocketDrops extends UdpSocketAddress {
  drops: number;
}

/**
 * The sockets of /proc/net/udp or /proc/net/udp6 with their drops (the last column). The kernel
 * prints an address as 32-bit words in hex, each in host byte order (one word for IPv4, four for
 * IPv6: `%08X` of `s6_addr32[i]`), so on a little-endian machine each word's bytes are reversed.
 */
export function parseUdpDrops(procText: string, littleEndian = endianness() === 'LE'): UdpSocketDrops[] {
  const sockets: UdpSocketDrops[] = [];
  for (const line of procText.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields.length < 13) continue;
    const [hexAddress, hexPort] = local.split(':');
    const bytes = hexAddress === undefined ? undefined : addressBytes(hexAddress, littleEndian);
    const port = parseInt(hexPort ?? '', 16);
    const drops = Number(fields[fields.length - 1]);
    if (bytes === undefined || !Number.isInteger(port) || !Number.isInteger(drops)) continue;
    sockets.push({ address: formatIp(bytes), port, drops });
  }
  return sockets;
}

function addressBytes(hex: string, littleEndian: boolean): Buffer | undefined {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  if (littleEndian) for (let word = 0; word < bytes.length; word += 4) bytes.subarray(word, word + 4).reverse();
  return bytes;
}

/** One spelling per socket address: an IPv4-mapped IPv6 address as IPv4, IPv6 in RFC 5952 form. */
function socketKey(address: string, port: number): string {
  const ip = parseIp(address);
  return `${ip === undefined ? address : formatIp(ip.bytes)} ${port}`;
}

/** Total kernel drops on the given sockets, or undefined where /proc/net is missing. */
export function kernelReceiveDrops(
  sockets: readonly UdpSocketAddress[],
  readText = (path: string) => readFileSync(path, 'utf8'),
  littleEndian = endianness() === 'LE',
): number | undefined {
  const drops = new Map<string, number>();
  let readAny = false;
  for (const path of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readText(path);
    } catch {
      continue;
    }
    readAny = true;
    for (const row of parseUdpDrops(text, littleEndian)) {
      const key = socketKey(row.address, row.port);
      // Sockets sharing one address and port (SO_REUSEPORT) are all ours.
      drops.set(key, (drops.get(key) ?? 0) + row.drops);
    }
  }
  if (!readAny) return undefined;
  return sockets.reduce((sum, { address, port }) => sum + (drops.get(socketKey(address, port)) ?? 0), 0);
}
