import { hashGroupOf } from '../bucketing/hash-group';
import { stableBucket } from '../bucketing/stable-bucket';
import { bucketFlagName, namespacedName, type Experiment } from '../experiment/experiment';
import { evaluateFlag, type FlagOutcome, type FlagRuleCheck } from '../flags/flag-evaluation';
import { checkHoldout, type HoldoutCheck } from '../holdouts/holdout-check';
import { checkLayer, layerAdmits, type LayerCheck } from '../layers/layer-eligibility';
import type { Micros } from '../time/iso-time';
import { checkEnrollmentWindow, type WindowCheck } from '../windows/enrollment-window';

export interface DecisionInput {
  userId?: number;
  /** A usable username (not empty, not "anonymous"), from the event or remembered. */
  username?: string;
  isStaff?: boolean;
  isSuperuser?: boolean;
  courseId?: string;
  /** The triggering event's time: decisions never read the wall clock. */
  now: Micros;
  /** When the learner enrolled in courseId, if they did. */
  enrolledAt?: Micros;
  /** Per layer, the experiment of it the learner holds assignments in (layers only). */
  heldLayers?: ReadonlyMap<string, string>;
}

export type NotBucketedReason =
  | 'anonymous'
  | 'no_username'
  | 'flag_off'
  | 'before_window'
  | 'after_window'
  | 'bad_window_date'
  /** Another experiment of the layer owns the learner (see `checkLayer`). */
  | 'layer'
  /** In a holdout covering the experiment. */
  | 'holdout';

export type BucketedReason = 'forced' | 'hash';

export type Decision =
  | { bucketed: true; bucket: number; reason: BucketedReason }
  | { bucketed: false; reason: NotBucketedReason };

/** What each step saw, for explanations; filled only when asked for. */
export interface DecisionTrace {
  mainFlag?: FlagTrace;
  window?: WindowCheck & { enrolledAt: Micros; usedEventTime: boolean };
  bucketFlags: (FlagTrace & { bucket: number })[];
  layer?: LayerCheck;
  holdout?: HoldoutCheck;
  hashGroup?: string;
}

/** A flag's answer with every rule consulted on the way. */
export interface FlagTrace {
  outcome: FlagOutcome;
  checks: FlagRuleCheck[];
}

/**
 * `ExperimentWaffleFlag.get_bucket` for one learner, without its request: the main flag gates,
 * the enrollment date window applies to course decisions of experiments with an id, a forcing
 * bucket flag wins, and otherwise the stable hash of the (course-aware) group name decides.
 * Beyond edx-platform, each only when the definition asks for it: a layer admits the learner
 * before anything else, a holdout keeps them out before the hash, and a bucket version changes
 * the group hashed.
 */
export function decide(
  experiment: Experiment,
  input: DecisionInput,
  trace?: DecisionTrace,
): Decision {
  if (input.userId === undefined) return { bucketed: false, reason: 'anonymous' };
  if (input.username === undefined) return { bucketed: false, reason: 'no_username' };

  const { layer } = experiment;
  if (layer) {
    const check = checkLayer(
      { ...experiment, layer },
      input.username,
      input.heldLayers ?? new Map(),
    );
    if (trace) trace.layer = check;
    if (!layerAdmits(check)) return { bucketed: false, reason: 'layer' };
  }

  const subject = input;
  const flagName = namespacedName(experiment);
  const checks: FlagRuleCheck[] | undefined = trace ? [] : undefined;
  const mainFlag = evaluateFlag(experiment.flag, flagName, subject, input.courseId, checks);
  if (trace) trace.mainFlag = { outcome: mainFlag, checks: checks! };
  if (!mainFlag.on) return { bucketed: false, reason: 'flag_off' };

  if (input.courseId !== undefined && experiment.experimentId !== undefined) {
    const enrolledAt = input.enrolledAt ?? input.now;
    const window = checkEnrollmentWindow(experiment.keyValues, enrolledAt);
    if (trace)
      trace.window = { ...window, enrolledAt, usedEventTime: input.enrolledAt === undefined };
    if (window.verdict !== 'inside') return { bucketed: false, reason: window.verdict };
  }

  for (let bucket = 0; bucket < experiment.numBuckets; bucket++) {
    const rule = experiment.bucketFlags[bucket];
    if (!rule) continue;
    const checks: FlagRuleCheck[] | undefined = trace ? [] : undefined;
    const name = bucketFlagName(experiment, bucket);
    const outcome = evaluateFlag(rule, name, subject, input.courseId, checks);
    trace?.bucketFlags.push({ bucket, outcome, checks: checks! });
    if (outcome.on) return { bucketed: true, bucket, reason: 'forced' };
  }

  if (experiment.holdout) {
    const check = checkHoldout(experiment.holdout, input.username);
    if (trace) trace.holdout = check;
    if (check.heldOut) return { bucketed: false, reason: 'holdout' };
  }

  const group = hashGroupOf(experiment, input.courseId, input.now);
  if (trace) trace.hashGroup = group;
  return {
    bucketed: true,
    bucket: stableBucket(group, experiment.numBuckets, input.username),
    reason: 'hash',
  };
}
