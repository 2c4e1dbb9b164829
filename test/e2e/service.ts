import t from 'tap';
import { base32, nameHash, servicePortName } from './lib/service.js';

t.test('base32() matches the RFC 4648 section 10 test vectors', async (t) => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'MY======'],
    ['fo', 'MZXQ===='],
    ['foo', 'MZXW6==='],
    ['foob', 'MZXW6YQ='],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI======'],
  ];
  for (const [input, expected] of vectors) t.equal(base32(Buffer.from(input)), expected, JSON.stringify(input));
});

t.test('nameHash() is the first characters of base32(SHA-256), stable and distinct', async (t) => {
  // SHA-256("") starts e3b0c442...; base32 of 0xe3 0xb0 0xc4 0x42 0x98 is 4OYMIQUY.
  t.equal(nameHash('', 8), '4OYMIQUY');
  t.equal(nameHash('default/affinity:stunudp', 16), nameHash('default/affinity:stunudp', 16));
  t.not(nameHash('default/affinity:stunudp198.51.100.11:3478', 16), nameHash('default/affinity:stunudp198.51.100.12:3478', 16));
  t.match(nameHash('x', 16), /^[A-Z2-7]{16}$/);
});

t.test('servicePortName() is namespace/name:port as kube-proxy prints it', async (t) => {
  t.equal(
    servicePortName({ namespace: 'ns', name: 'svc', portName: 'stun', clusterIp: '203.0.113.100', port: 3478, sessionAffinity: 'None', stickySeconds: 10800 }),
    'ns/svc:stun',
  );
});
