import { sampleRatioMismatch, summarizeBucketCounts } from '@assigner/domain';

describe('summarizeBucketCounts', () => {
  it('counts buckets without assignments as 0, so a dead bucket is a mismatch', () => {
    const counts = summarizeBucketCounts(3, [
      { courseId: null, bucket: 0, reason: 'hash', count: 500 },
      { courseId: null, bucket: 2, reason: 'hash', count: 480 },
    ]);
    expect(counts.buckets).toEqual([500, 0, 480]);
    expect(counts.total).toBe(980);
    expect(counts.sampleRatio?.mismatch).toBe(true);
  });

  it('leaves forced assignments out of the split check but counts them', () => {
    const counts = summarizeBucketCounts(2, [
      { courseId: 'c', bucket: 0, reason: 'hash', count: 100 },
      { courseId: 'c', bucket: 1, reason: 'hash', count: 100 },
      { courseId: 'c', bucket: 1, reason: 'forced', count: 400 },
    ]);
    expect(counts).toMatchObject({ total: 600, buckets: [100, 500], forced: [0, 400] });
    expect(counts.sampleRatio).toEqual(sampleRatioMismatch([100, 100]));
  });

  it('summarizes each course apart, the course-less decisions first', () => {
    const counts = summarizeBucketCounts(2, [
      { courseId: 'course-v1:B+1+1', bucket: 1, reason: 'hash', count: 3 },
      { courseId: null, bucket: 0, reason: 'hash', count: 2 },
      { courseId: 'course-v1:A+1+1', bucket: 0, reason: 'hash', count: 5 },
      { courseId: 'course-v1:B+1+1', bucket: 0, reason: 'hash', count: 4 },
    ]);
    expect(counts.courses.map(({ courseId, buckets }) => [courseId, buckets])).toEqual([
      [null, [2, 0]],
      ['course-v1:A+1+1', [5, 0]],
      ['course-v1:B+1+1', [4, 3]],
    ]);
    expect(counts.buckets).toEqual([11, 3]);
  });

  it('keeps buckets beyond a reduced numBuckets visible, and checks nothing with one bucket', () => {
    expect(
      summarizeBucketCounts(1, [{ courseId: null, bucket: 2, reason: 'hash', count: 1 }]).buckets,
    ).toEqual([0, 0, 1]);
    expect(summarizeBucketCounts(1, []).sampleRatio).toBeNull();
  });
});
