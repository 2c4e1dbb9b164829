import t from 'tap';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from '../../../common/stun/crc32.js';
import { referenceCrc32 } from '../../fixtures/stun-vectors.js';

t.test('crc32() of the standard check string "123456789" is 0xcbf43926', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

t.test('crc32() of nothing is 0', async (t) => {
  t.equal(crc32(Buffer.alloc(0)), 0);
  t.equal(crc32(Buffer.from('abc'), 2, 2), 0);
});

t.test('crc32() over any range agrees with a bit-by-bit CRC and with node:zlib', async (t) => {
  const data = Buffer.alloc(300);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
  let mismatches = 0;
  for (let start = 0; start < 17; start++) {
    for (let end = start; end <= data.length; end += start + 1) {
      const expected = referenceCrc32(data.subarray(start, end));
      if (crc32(data, start, end) !== expected || zlibCrc32(data.subarray(start, end)) !== expected) mismatches++;
    }
  }
  t.equal(mismatches, 0);
});
