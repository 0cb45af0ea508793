import { md5Words } from './md5';

/**
 * edx-platform's `stable_bucketing_hash_group`: MD5 of group name then username (UTF-8), each
 * of the 32 hex digits of the digest mapped to one bit (0-7 → 0, 8-f → 1), the bits read as a
 * binary number, modulo the bucket count. A hex digit is ≥ 8 exactly when its nibble's top bit
 * is set, so the bits are bit 7 and bit 3 of each digest byte, in byte order.
 */
export function stableBucket(groupName: string, bucketCount: number, username: string): number {
  let value = 0;
  for (const word of md5Words(groupName + username)) {
    for (let byte = 0; byte < 4; byte++) {
      const octet = (word >>> (byte * 8)) & 0xff;
      // Up to 2^32 - 1: exact in a double, unlike a 32-bit shift.
      value = value * 4 + ((octet >>> 6) & 2) + ((octet >>> 3) & 1);
    }
  }
  return value % bucketCount;
}
