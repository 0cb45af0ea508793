import type { Experiment } from '../experiment/experiment';
import { parseIsoMicros, type Micros } from '../time/iso-time';

/** Parsed starts per experiment object: definitions are immutable once loaded. */
const parsedStarts = new WeakMap<object, [number, Micros][]>();

/**
 * The bucket version a decision at `now` hashes under: the highest version up to the
 * definition's `bucketVersion` whose start (`bucketVersionFrom`) is at or before `now`; a version
 * without a start applies from the beginning. So raising the version re-randomizes decisions of
 * events from its start on, and history from before it decides, when applied again, as it did.
 */
export function bucketVersionAt(
  experiment: Pick<Experiment, 'bucketVersion' | 'bucketVersionFrom'>,
  now: Micros,
): number {
  const top = experiment.bucketVersion ?? 0;
  if (top === 0) return 0;
  const from = experiment.bucketVersionFrom;
  if (!from) return top;
  let starts = parsedStarts.get(from);
  if (!starts) {
    starts = Object.entries(from).map(([version, iso]) => [
      Number(version),
      parseIsoMicros(iso) ?? -Infinity,
    ]);
    parsedStarts.set(from, starts);
  }
  for (let version = top; version > 0; version--) {
    const start = starts.find(([v]) => v === version)?.[1];
    if (start === undefined || start <= now) return version;
  }
  return 0;
}
