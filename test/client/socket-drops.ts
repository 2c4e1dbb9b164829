import t from 'tap';
import { kernelReceiveDrops, parseUdpDrops } from '../../client/socket-drops.js';

const HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
const row = (local: string, drops: number): string =>
  `  123: ${local} 0100007F:0D96 01 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 ${drops}`;

// As a little-endian Linux prints them: 127.0.0.1, 127.0.0.2 and every address, all on port
// 0x0D96 (3478), and 127.0.0.1 on 0xD431.
const UDP = [HEADER, row('0100007F:0D96', 5), row('0200007F:0D96', 7), row('00000000:0D96', 11), row('0100007F:D431', 244), ''].join('\n');
// ::1, 2001:db8::1, every address and ::ffff:127.0.0.3, all on port 0x0D96: each 32-bit word's
// bytes reversed (2001:0db8 is printed B80D0120).
const UDP6 = [
  HEADER,
  row('00000000000000000000000001000000:0D96', 3),
  row('B80D0120000000000000000001000000:0D96', 13),
  row('00000000000000000000000000000000:0D96', 17),
  row('0000000000000000FFFF00000300007F:0D96', 19),
  '',
].join('\n');

t.test('parseUdpDrops() reads the local address, port and drops of /proc/net/udp', async (t) => {
  t.same(parseUdpDrops(UDP, true), [
    { address: '127.0.0.1', port: 3478, drops: 5 },
    { address: '127.0.0.2', port: 3478, drops: 7 },
    { address: '0.0.0.0', port: 3478, drops: 11 },
    { address: '127.0.0.1', port: 0xd431, drops: 244 },
  ]);
  t.same(parseUdpDrops('header only\n', true), []);
});

t.test('parseUdpDrops() reads IPv6 addresses as four 32-bit words in host byte order', async (t) => {
  t.same(parseUdpDrops(UDP6, true), [
    { address: '::1', port: 3478, drops: 3 },
    { address: '2001:db8::1', port: 3478, drops: 13 },
    { address: '::', port: 3478, drops: 17 },
    { address: '::ffff:7f00:3', port: 3478, drops: 19 },
  ]);
  const bigEndian = [HEADER, row('20010DB8000000000000000000000001:0D96', 13), row('7F000002:0D96', 7)].join('\n');
  t.same(
    parseUdpDrops(bigEndian, false),
    [
      { address: '2001:db8::1', port: 3478, drops: 13 },
      { address: '127.0.0.2', port: 3478, drops: 7 },
    ],
    'a big-endian machine prints the words in network order',
  );
});

t.test('parseUdpDrops() skips a row whose local address is not 8 or 32 hex digits', async (t) => {
  t.same(parseUdpDrops([HEADER, row('0100007:0D96', 1), row('0100007G:0D96', 1)].join('\n'), true), []);
});

const files: Record<string, string> = { '/proc/net/udp': UDP, '/proc/net/udp6': UDP6 };
const read = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error('ENOENT');
  return text;
};

t.test('kernelReceiveDrops() counts only the sockets on the given address and port', async (t) => {
  t.equal(kernelReceiveDrops([{ address: '127.0.0.2', port: 3478 }], read, true), 7, 'not the sockets on the same port at 127.0.0.1 or every address');
  t.equal(kernelReceiveDrops([{ address: '0.0.0.0', port: 3478 }], read, true), 11);
  t.equal(
    kernelReceiveDrops(
      [
        { address: '127.0.0.1', port: 3478 },
        { address: '127.0.0.1', port: 0xd431 },
      ],
      read,
      true,
    ),
    249,
  );
  t.equal(kernelReceiveDrops([{ address: '127.0.0.4', port: 3478 }], read, true), 0, 'no socket at that address, no drops');
});

t.test('kernelReceiveDrops() matches IPv6 sockets by address in any spelling', async (t) => {
  t.equal(kernelReceiveDrops([{ address: '::1', port: 3478 }], read, true), 3);
  t.equal(kernelReceiveDrops([{ address: '2001:DB8:0:0::1', port: 3478 }], read, true), 13);
  t.equal(kernelReceiveDrops([{ address: '::', port: 3478 }], read, true), 17);
  t.equal(kernelReceiveDrops([{ address: '::ffff:127.0.0.3', port: 3478 }], read, true), 19, 'an IPv4-mapped address');
});

t.test('kernelReceiveDrops() is unknown without /proc/net', async (t) => {
  const missing = (): string => {
    throw new Error('ENOENT');
  };
  t.equal(kernelReceiveDrops([{ address: '127.0.0.1', port: 1 }], missing), undefined);
});
