import t from 'tap';
import { formatEndpoint, formatIp, parseIp } from '../../common/ip-address.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/[^0-9a-f]/gi, ''), 'hex');

t.test('parseIp() of dotted IPv4 gives 4 bytes', async (t) => {
  t.same(parseIp('192.0.2.1'), { family: 4, bytes: bytes('c0000201') });
  t.same(parseIp('0.0.0.0'), { family: 4, bytes: bytes('00000000') });
  t.same(parseIp('255.255.255.255'), { family: 4, bytes: bytes('ffffffff') });
});

t.test('parseIp() of IPv6 gives 16 bytes, with :: anywhere', async (t) => {
  t.same(parseIp('2001:db8::1'), { family: 6, bytes: bytes('20010db8 00000000 00000000 00000001') });
  t.same(parseIp('::'), { family: 6, bytes: Buffer.alloc(16) });
  t.same(parseIp('::1'), { family: 6, bytes: bytes('00000000 00000000 00000000 00000001') });
  t.same(parseIp('fe80::'), { family: 6, bytes: bytes('fe800000 00000000 00000000 00000000') });
  t.same(parseIp('2001:DB8:1:2:3:4:5:6'), { family: 6, bytes: bytes('20010db8 00010002 00030004 00050006') });
  t.same(parseIp('64:ff9b::192.0.2.33'), { family: 6, bytes: bytes('0064ff9b 00000000 00000000 c0000221') }, 'embedded IPv4 (RFC 6052)');
});

t.test('parseIp() of an IPv4-mapped IPv6 address gives the IPv4 address', async (t) => {
  t.same(parseIp('::ffff:192.0.2.1'), { family: 4, bytes: bytes('c0000201') });
  t.same(parseIp('::FFFF:c000:0201'), { family: 4, bytes: bytes('c0000201') });
  t.same(parseIp('0:0:0:0:0:ffff:127.0.0.1'), { family: 4, bytes: bytes('7f000001') });
});

t.test('parseIp() ignores a zone', async (t) => {
  t.same(parseIp('fe80::1%eth0'), { family: 6, bytes: bytes('fe800000 00000000 00000000 00000001') });
});

t.test('parseIp() of anything that is not an IP address returns undefined', async (t) => {
  for (const text of ['', 'localhost', '1.2.3', '256.1.1.1', '1.2.3.4.5', '1.2.3.4 ', '::g', '1::2::3', '2001:db8:1:2:3:4:5:6:7', '[::1]', '%eth0']) {
    t.equal(parseIp(text), undefined, JSON.stringify(text));
  }
});

t.test('formatIp() of 4 bytes is dotted decimal', async (t) => {
  t.equal(formatIp(bytes('c0000201')), '192.0.2.1');
});

t.test('formatIp() of 16 bytes follows RFC 5952', async (t) => {
  // Section 4.1: no leading zeros; 4.3: lower case; 4.2.1: longest run; 4.2.2: never one group;
  // 4.2.3: the first of equal runs.
  t.equal(formatIp(bytes('20010db8 00000000 00000000 00000001')), '2001:db8::1');
  t.equal(formatIp(Buffer.alloc(16)), '::');
  t.equal(formatIp(bytes('00000000 00000000 00000000 00000001')), '::1');
  t.equal(formatIp(bytes('20010db8 00000001 00010001 00010001')), '2001:db8:0:1:1:1:1:1', 'a single zero group stays');
  t.equal(formatIp(bytes('20010000 00000001 00000000 00000001')), '2001:0:0:1::1', 'the longest run wins');
  t.equal(formatIp(bytes('20010db8 00000000 00010000 00000001')), '2001:db8::1:0:0:1', 'the first of equal runs wins');
  t.equal(formatIp(bytes('ABCD0000 00000000 00000000 0000EF01')), 'abcd::ef01');
  t.equal(formatIp(bytes('20010db8 00010002 00030004 00050000')), '2001:db8:1:2:3:4:5:0', 'a trailing single zero');
  t.equal(formatIp(bytes('fe800000 00000000 00000000 00000000')), 'fe80::');
});

t.test('formatIp() and parseIp() round-trip', async (t) => {
  for (const text of ['2001:db8::1', '::', 'fe80::', '2001:db8:0:1:1:1:1:1', '1::', '::2:3', '192.0.2.200']) {
    t.equal(formatIp(parseIp(text)!.bytes), text);
  }
});

t.test('formatEndpoint() brackets IPv6 addresses', async (t) => {
  t.equal(formatEndpoint('192.0.2.1', 3478), '192.0.2.1:3478');
  t.equal(formatEndpoint('2001:db8::1', 3478), '[2001:db8::1]:3478');
});
