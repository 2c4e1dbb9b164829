// CRC-32 (IEEE 802.3, as FINGERPRINT uses; RFC 8489 section 14.7) over a byte range, in place.
// node:zlib's crc32 needs a Buffer of exactly the bytes covered, so each call would allocate a
// view; this one reads the range directly, so checking a datagram allocates nothing. It works
// 8 bytes at a time ("slicing-by-8", eight 256-entry tables), about twice as fast as zlib's
// binding for datagrams of a hundred bytes or so.

const TABLES = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLES[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let table = 1; table < 8; table++) {
    const previous = TABLES[(table - 1) * 256 + n]!;
    TABLES[table * 256 + n] = (previous >>> 8) ^ TABLES[previous & 0xff]!;
  }
}

/** CRC-32 of bytes [start, end) of `data`, as an unsigned 32-bit number. */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  const t = TABLES;
  let crc = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const word = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc =
      t[1792 + (word & 0xff)]! ^
      t[1536 + ((word >>> 8) & 0xff)]! ^
      t[1280 + ((word >>> 16) & 0xff)]! ^
      t[1024 + (word >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < end; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
