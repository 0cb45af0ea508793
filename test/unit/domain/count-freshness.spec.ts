import { countIsCurrent } from '@assigner/domain';

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, seconds));

describe('countIsCurrent', () => {
  it('redoes a quick count for every request, however recent', () => {
    expect(countIsCurrent({ countedAt: at(0), durationMs: 999 }, at(0))).toBe(false);
  });

  it('reuses a long count for ten times its duration, then counts again', () => {
    const count = { countedAt: at(0), durationMs: 4_000 };
    expect(countIsCurrent(count, at(39))).toBe(true);
    expect(countIsCurrent(count, at(40))).toBe(false);
  });
});
