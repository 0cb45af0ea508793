import { stableBucket } from './stable-bucket';

/** Hundredths of a percent: holdout and layer shares are given to two decimals. */
const SLOTS = 10_000;

/**
 * Where a learner falls in [0, 100) for a holdout or layer `name`, in steps of 0.01: edx's stable
 * hash of the username under a group of that name and purpose, so that a holdout and a layer of
 * the same name do not select the same learners.
 */
export function hashShareOf(purpose: 'holdout' | 'layer', name: string, username: string): number {
  return stableBucket(`${purpose}:${name}`, SLOTS, username) / 100;
}
