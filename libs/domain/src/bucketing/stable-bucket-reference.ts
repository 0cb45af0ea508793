import { createHash } from 'node:crypto';

/**
 * edx-platform's `stable_bucketing_hash_group` transcribed literally (hexdigest, two regex
 * substitutions, base-2 parse, modulo). Slow; kept as an independent check of stableBucket and
 * as the benchmark baseline.
 */
export function stableBucketReference(
  groupName: string,
  bucketCount: number,
  username: string,
): number {
  const hex = createHash('md5').update(groupName, 'utf8').update(username, 'utf8').digest('hex');
  const bits = hex.replace(/[0-7]/g, '0').replace(/[89a-f]/g, '1');
  return Number(BigInt(`0b${bits}`) % BigInt(bucketCount));
}
