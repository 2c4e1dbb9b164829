import t from 'tap';
import { PeerAddressParser } from '../../server/peer-address.js';

t.test('parse() of a dotted quad or an IPv4-mapped address gives the 4 IPv4 bytes', async (t) => {
  const parser = new PeerAddressParser();
  t.same(parser.parse('192.0.2.1'), Buffer.from([192, 0, 2, 1]));
  t.same(parser.parse('::ffff:198.51.100.255'), Buffer.from([198, 51, 100, 255]));
  t.same(parser.parse('0.0.0.0'), Buffer.from([0, 0, 0, 0]));
});

t.test('parse() of IPv6 gives 16 bytes', async (t) => {
  const parser = new PeerAddressParser();
  t.same(parser.parse('2001:db8::1'), Buffer.from('20010db8000000000000000000000001', 'hex'));
  t.same(parser.parse('::1'), Buffer.from('00000000000000000000000000000001', 'hex'));
  t.same(parser.parse('::ffff:c000:201'), Buffer.from([192, 0, 2, 1]), 'hex-form mapped address');
});

t.test('parse() of something that is not an address returns undefined', async (t) => {
  const parser = new PeerAddressParser();
  for (const text of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', '1.2.3.', 'a.b.c.d', 'localhost', '::ffff:1.2.3', ':::']) {
    t.equal(parser.parse(text), undefined, JSON.stringify(text));
  }
});
