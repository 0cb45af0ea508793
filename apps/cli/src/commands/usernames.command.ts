import { stableBucket, stableBucketReference } from '@assigner/domain';
import { UsageError } from '../usage-error';
import { parseWholeNumber } from './bucket.command';

export interface UsernamesOptions {
  group: string;
  count: string;
  bucket: string;
  n: string;
  prefix: string;
}

/** Stop looking after this many candidates per wanted name: far beyond any real bucket's odds. */
const TRIES_PER_NAME = 100_000;

/**
 * `assigner usernames`: usernames `PREFIX0`, `PREFIX1`, … that land in the wanted bucket, as
 * edx-platform's stable_bucketer helped pick test accounts. Each is checked again with the
 * literal transcription of the Python before it is printed.
 */
export function findUsernames(options: UsernamesOptions): void {
  const count = parseWholeNumber(options.count, 'count', 1);
  const bucket = parseWholeNumber(options.bucket, 'bucket', 0);
  const wanted = parseWholeNumber(options.n, 'n', 1);
  if (bucket >= count)
    throw new UsageError([`bucket must be below count ${count} (got ${bucket})`]);
  const limit = wanted * Math.max(count, 2) * TRIES_PER_NAME;
  let found = 0;
  for (let i = 0; found < wanted; i++) {
    if (i >= limit) throw new Error(`no more usernames found after ${limit} candidates`);
    const username = `${options.prefix}${i}`;
    if (stableBucket(options.group, count, username) !== bucket) continue;
    if (stableBucketReference(options.group, count, username) !== bucket) {
      throw new Error(`internal error: ${username} fails the reference check`);
    }
    process.stdout.write(`${username}\n`);
    found += 1;
  }
}
