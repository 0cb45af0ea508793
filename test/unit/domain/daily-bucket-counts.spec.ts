import { AssignmentCounter, dailyBucketSeries, parseIsoMicros } from '@assigner/domain';

const at = (iso: string) => parseIsoMicros(iso)!;

describe('assignments per bucket per day', () => {
  it('counts each assignment on the UTC day its current bucket was decided', () => {
    const counter = new AssignmentCounter();
    const add = (bucket: number, lastDecidedAt: string) =>
      counter.add({
        courseId: null,
        bucket,
        reason: 'hash',
        firstDecidedAt: at('2026-02-01T00:00:00Z'),
        lastDecidedAt: at(lastDecidedAt),
      });
    add(0, '2026-03-01T23:59:59.999999Z');
    add(1, '2026-03-02T00:00:00Z');
    add(0, '2026-03-02T01:00:00+05:00');
    add(0, '2026-03-04T12:00:00Z');
    expect(dailyBucketSeries(2, counter.tally().daily)).toEqual({
      days: ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'],
      buckets: [
        [2, 0, 0, 1],
        [0, 1, 0, 0],
      ],
    });
  });

  it('has a series, all zeros, for a bucket nobody entered, and no days without assignments', () => {
    expect(dailyBucketSeries(3, [{ day: '2026-03-01', bucket: 0, count: 5 }])).toEqual({
      days: ['2026-03-01'],
      buckets: [[5], [0], [0]],
    });
    expect(dailyBucketSeries(2, [])).toEqual({ days: [], buckets: [[], []] });
  });
});
