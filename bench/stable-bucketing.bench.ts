// Decisions per second of stableBucket (hand-written MD5 over one buffer) against two node:crypto
// versions: a straightforward createHash('md5') one, and the literal transcription of the Python.
import { stableBucket, stableBucketReference } from '@assigner/domain';
import { createHash } from 'node:crypto';

function straightforward(group: string, count: number, username: string): number {
  const digest = createHash('md5').update(group).update(username).digest();
  let value = 0;
  for (const byte of digest) value = value * 4 + ((byte >> 6) & 2) + ((byte >> 3) & 1);
  return value % count;
}

const usernames = Array.from({ length: 100_000 }, (_, i) => `learner${i}`);
const group = 'course_experience.animated_exy.course-v1:edX+DemoX+2026';

function measure(name: string, bucket: (g: string, c: number, u: string) => number): number {
  let checksum = 0;
  for (const username of usernames.slice(0, 20_000)) checksum += bucket(group, 2, username); // warm-up
  const rounds = 5;
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++)
    for (const username of usernames) checksum += bucket(group, 2, username);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = (rounds * usernames.length) / seconds;
  process.stdout.write(
    `${name.padEnd(34)} ${(rate / 1e6).toFixed(2).padStart(6)} M decisions/s (checksum ${checksum})\n`,
  );
  return rate;
}

const fast = measure('stableBucket (this project)', stableBucket);
const baseline = measure("createHash('md5'), bit loop", straightforward);
const literal = measure('literal Python transcription', stableBucketReference);
process.stdout.write(
  `speed-up: ${(fast / baseline).toFixed(1)}x over createHash, ${(fast / literal).toFixed(1)}x over the transcription\n`,
);
