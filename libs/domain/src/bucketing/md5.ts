// MD5 (RFC 1321) of a UTF-8 string, returning the four state words. Written out because the
// bucketing hash runs for every decision: for the short inputs it sees (one or two 64-byte
// blocks) this avoids node:crypto's per-call object and buffer overhead. Tests compare it with
// node:crypto on arbitrary strings.

const K = new Uint32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);
const SHIFT = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

const encoder = new TextEncoder();
let buffer = new Uint8Array(256);
const words = new Uint32Array(16);

/** MD5 state words (a, b, c, d) after hashing `text` as UTF-8; digest bytes are each word little-endian. */
export function md5Words(text: string): [number, number, number, number] {
  // UTF-8 needs at most 3 bytes per UTF-16 unit; plus 0x80, zero padding and the 8-byte length.
  const needed = text.length * 3 + 72;
  if (buffer.length < needed) buffer = new Uint8Array(needed * 2);
  const length = encoder.encodeInto(text, buffer).written;
  const padded = (((length + 8) >>> 6) + 1) << 6;
  buffer[length] = 0x80;
  buffer.fill(0, length + 1, padded - 8);
  const bits = length * 8;
  buffer[padded - 8] = bits & 0xff;
  buffer[padded - 7] = (bits >>> 8) & 0xff;
  buffer[padded - 6] = (bits >>> 16) & 0xff;
  buffer[padded - 5] = (bits >>> 24) & 0xff;
  const high = Math.floor(bits / 0x100000000);
  buffer[padded - 4] = high & 0xff;
  buffer[padded - 3] = (high >>> 8) & 0xff;
  buffer[padded - 2] = (high >>> 16) & 0xff;
  buffer[padded - 1] = (high >>> 24) & 0xff;

  let a0 = 0x67452301;
  let b0 = 0xefcdab89;
  let c0 = 0x98badcfe;
  let d0 = 0x10325476;
  for (let offset = 0; offset < padded; offset += 64) {
    for (let i = 0; i < 16; i++) {
      const at = offset + i * 4;
      words[i] =
        buffer[at]! | (buffer[at + 1]! << 8) | (buffer[at + 2]! << 16) | (buffer[at + 3]! << 24);
    }
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + K[i]! + words[g]!) | 0;
      const shift = SHIFT[((i >>> 4) << 2) | (i & 3)]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  return [a0 >>> 0, b0 >>> 0, c0 >>> 0, d0 >>> 0];
}
