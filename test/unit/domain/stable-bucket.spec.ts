import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { stableBucket, stableBucketReference as referenceBucket } from '@assigner/domain';
import { md5Words } from '../../../libs/domain/src/bucketing/md5';
import vectors from '../../fixtures/stable-bucketing-vectors.json';

function digestHex(text: string): string {
  return md5Words(text)
    .map((word) => Buffer.from(new Uint32Array([word]).buffer).toString('hex'))
    .join('');
}

describe('stable bucketing', () => {
  it('matches every reference value computed with edx-platform’s own hash', () => {
    expect(vectors.length).toBeGreaterThan(300);
    const mismatches = vectors.filter(
      (v) => stableBucket(v.group, v.count, v.username) !== v.bucket,
    );
    expect(mismatches).toEqual([]);
  });

  it('agrees with a literal transcription of the Python for arbitrary UTF-8 names and counts', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.string({ unit: 'grapheme' }),
        (group, count, username) => {
          expect(stableBucket(group, count, username)).toBe(
            referenceBucket(group, count, username),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('computes MD5 like node:crypto for inputs across block boundaries and astral characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(digestHex(text)).toBe(createHash('md5').update(text, 'utf8').digest('hex'));
      }),
      { numRuns: 2000 },
    );
    for (const length of [0, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const text = 'x'.repeat(length);
      expect(digestHex(text)).toBe(createHash('md5').update(text).digest('hex'));
    }
  });

  it('spreads usernames evenly across buckets', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[stableBucket('exp.even', 4, `learner${i}`)]! += 1;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(400);
  });
});
