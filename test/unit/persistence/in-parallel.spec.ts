import { inParallel, slices } from '../../../libs/persistence/src/in-parallel';

describe('running store commands a few at a time', () => {
  it('runs every item once, never more than the limit at a time, and keeps their order', async () => {
    let running = 0;
    let most = 0;
    const results = await inParallel([5, 1, 4, 2, 3], 2, async (delay) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, delay));
      running -= 1;
      return delay * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('fails with the first failure', async () => {
    await expect(
      inParallel([1, 2, 3], 2, (item) =>
        item === 2 ? Promise.reject(new Error('store unreachable')) : Promise.resolve(item),
      ),
    ).rejects.toThrow('store unreachable');
  });

  it('cuts a list into slices of at most the size', () => {
    expect(slices([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(slices([], 2)).toEqual([]);
  });
});
