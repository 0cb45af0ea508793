import type { Experiment } from '@assigner/domain';

/**
 * A definition about to replace `stored`, with the start of each bucket version it raises to
 * filled in as `now` when not given, and the starts of earlier versions kept from `stored`: so
 * that raising the version re-randomizes decisions from now on, and history from before decides,
 * when applied again, as it did. A new experiment's versions need no start (nothing was decided).
 */
export function withBucketVersionStarts(
  next: Experiment,
  stored: Experiment | undefined,
  now: Date,
): Experiment {
  const top = next.bucketVersion ?? 0;
  if (top === 0 || !stored) return next;
  const before = stored.bucketVersion ?? 0;
  const starts: Record<string, string> = {};
  for (const [version, at] of Object.entries(stored.bucketVersionFrom ?? {}))
    if (Number(version) <= top) starts[version] = at;
  Object.assign(starts, next.bucketVersionFrom);
  for (let version = before + 1; version <= top; version++)
    starts[String(version)] ??= now.toISOString();
  return Object.keys(starts).length > 0 ? { ...next, bucketVersionFrom: starts } : next;
}
