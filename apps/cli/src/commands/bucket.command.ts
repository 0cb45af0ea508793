import { stableBucket } from '@assigner/domain';
import { createInterface } from 'node:readline';
import { UsageError } from '../usage-error';

/** A whole-number argument, at least `min`; a UsageError naming the argument otherwise. */
export function parseWholeNumber(text: string, name: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError([`${name} must be a whole number of ${min} or more (got "${text}")`]);
  }
  return value;
}

/** `assigner bucket GROUP COUNT USERNAME`: edx-platform's stable bucket, one number on stdout. */
export function bucketOne(group: string, countText: string, username: string): void {
  process.stdout.write(
    `${stableBucket(group, parseWholeNumber(countText, 'count', 1), username)}\n`,
  );
}

type BucketRequest = { group: string; count: number; username: string };

function bucketRequest(line: string): BucketRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not a JSON object';
  const { group, count, username } = value as Record<string, unknown>;
  const problems = [
    typeof group === 'string' ? undefined : '"group" must be a string',
    Number.isSafeInteger(count) && (count as number) >= 1
      ? undefined
      : '"count" must be a whole number of 1 or more',
    typeof username === 'string' ? undefined : '"username" must be a string',
  ].filter((problem) => problem !== undefined);
  return problems.length > 0 ? problems.join('; ') : (value as BucketRequest);
}

/**
 * `assigner bucket --stdin`: each JSON line `{group, count, username}` comes back on stdout with
 * `bucket` added, in order. A bad line comes back with `error` instead; the exit code is then 1.
 */
export async function bucketStdin(): Promise<number> {
  let failures = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const request = bucketRequest(line);
    if (typeof request === 'string') {
      failures += 1;
      process.stdout.write(`${JSON.stringify({ input: line, error: request })}\n`);
    } else {
      const bucket = stableBucket(request.group, request.count, request.username);
      process.stdout.write(`${JSON.stringify({ ...request, bucket })}\n`);
    }
  }
  return failures > 0 ? 1 : 0;
}
