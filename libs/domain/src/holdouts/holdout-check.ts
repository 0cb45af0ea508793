import { hashShareOf } from '../bucketing/hash-share';
import type { HoldoutRule } from '../experiment/experiment';

export interface HoldoutCheck extends HoldoutRule {
  /** The learner's place in the holdout's hash, [0, 100). */
  share: number;
  heldOut: boolean;
}

/**
 * Whether a learner is in a holdout: their share of its stable hash is below its percent. The
 * same for every experiment the holdout covers, so they are held out of all of them or none.
 */
export function checkHoldout(holdout: HoldoutRule, username: string): HoldoutCheck {
  const share = hashShareOf('holdout', holdout.name, username);
  return { ...holdout, share, heldOut: share < holdout.percent };
}
