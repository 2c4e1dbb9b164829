import t from 'tap';
import { kernelReceiveDrops, parseUdpDrops } from '../../client/socket-drops.js';

// Two lines as Linux prints them (the header, then sockets): local ports 0xD431 and 0x0D96.
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:D431 0100007F:0D96 01 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 244
  124: 00000000:0D96 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   7: 00000000000000000000000001000000:B3A2 00000000000000000000000001000000:0D96 01 00000000:00000000 00:00000000 00000000     0        0 5151 2 0000000000000000 3
`;

t.test('parseUdpDrops() reads the local port and the drops column of /proc/net/udp and udp6', async (t) => {
  t.same([...parseUdpDrops(UDP)], [
    [0xd431, 244],
    [0x0d96, 0],
  ]);
  t.same([...parseUdpDrops(UDP6)], [[0xb3a2, 3]]);
  t.same([...parseUdpDrops('header only\n')], []);
});

t.test('kernelReceiveDrops() adds up the drops of the given ports over IPv4 and IPv6', async (t) => {
  const files: Record<string, string> = { '/proc/net/udp': UDP, '/proc/net/udp6': UDP6 };
  const read = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw new Error('ENOENT');
    return text;
  };
  t.equal(kernelReceiveDrops([0xd431, 0xb3a2, 0x0d96], read), 247);
  t.equal(kernelReceiveDrops([12345], read), 0, 'a port with no socket has no drops');
  t.equal(
    kernelReceiveDrops([1], () => {
      throw new Error('ENOENT');
    }),
    undefined,
    'unknown without /proc/net',
  );
});
