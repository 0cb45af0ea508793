/**
 * Runs `step` on every item, at most `inFlight` at a time, and resolves with the results in the
 * items' order. FerretDB runs the statements of one command one after another, each a round trip
 * to its backend: a few commands in flight keep its connections busy. (p-limit, the usual
 * library, is ESM-only since v4 and this project builds to CommonJS.)
 */
export async function inParallel<T, R>(
  items: readonly T[],
  inFlight: number,
  step: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(inFlight, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await step(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** `items` in consecutive slices of at most `size`. */
export function slices<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    result.push(items.slice(start, start + size));
  return result;
}
