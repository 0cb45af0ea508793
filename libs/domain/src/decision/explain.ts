import { bucketVersionAt } from '../bucketing/bucket-version';
import { bucketFlagName, namespacedName, type Experiment } from '../experiment/experiment';
import type { FlagRuleCheck, FlagRuleName } from '../flags/flag-evaluation';
import type { HoldoutCheck } from '../holdouts/holdout-check';
import type { LayerCheck } from '../layers/layer-eligibility';
import type { Micros } from '../time/iso-time';
import type { WindowVerdict } from '../windows/enrollment-window';
import { decide, type Decision, type DecisionInput, type DecisionTrace } from './decide';

/** A flag as an explanation shows it: whether it is defined, its answer, and each rule consulted. */
export interface FlagStep {
  flag: string;
  defined: boolean;
  on: boolean;
  decidedBy: FlagRuleName;
  rules: FlagRuleCheck[];
}

/** One check of a decision, in the order `decide` makes them; the last one shown decided. */
export type ExplanationStep =
  | { check: 'learner'; result: 'anonymous' | 'no_username' | 'known'; username?: string }
  | ({ check: 'main_flag' } & FlagStep)
  | {
      check: 'enrollment_window';
      verdict: WindowVerdict | 'not_applicable';
      /** Why the window does not apply, when it does not. */
      skipped?: 'no_course' | 'no_experiment_id';
      bound?: 'enrollment_start' | 'enrollment_end';
      enrollmentStart: string | null;
      enrollmentEnd: string | null;
      /** The enrollment time compared with the bounds. */
      enrolledAt?: Micros;
      /** True when the learner has no known enrollment, so the decision's time stood in for it. */
      usedDecisionTime?: boolean;
    }
  | ({ check: 'bucket_flag'; bucket: number } & FlagStep)
  | ({ check: 'layer' } & LayerCheck)
  | ({ check: 'holdout' } & HoldoutCheck)
  | {
      check: 'hash';
      group: string;
      numBuckets: number;
      bucket: number;
      /** From 1 on; absent for edx-platform's own hash. */
      bucketVersion?: number;
    };

export interface Explanation {
  decision: Decision;
  steps: ExplanationStep[];
}

/**
 * Runs `decide` with its trace and tells each check it made and how it came out, so that a
 * support person can answer "why is this learner (not) in that bucket?". The rules themselves
 * stay in `decide`; this only reads what it saw.
 */
export function explainDecision(experiment: Experiment, input: DecisionInput): Explanation {
  const trace: DecisionTrace = { bucketFlags: [] };
  const decision = decide(experiment, input, trace);
  const steps: ExplanationStep[] = [];

  if (input.userId === undefined) steps.push({ check: 'learner', result: 'anonymous' });
  else if (input.username === undefined) steps.push({ check: 'learner', result: 'no_username' });
  else steps.push({ check: 'learner', result: 'known', username: input.username });

  if (trace.layer) steps.push({ check: 'layer', ...trace.layer });
  if (trace.mainFlag)
    steps.push({
      check: 'main_flag',
      flag: namespacedName(experiment),
      defined: experiment.flag !== undefined,
      on: trace.mainFlag.outcome.on,
      decidedBy: trace.mainFlag.outcome.rule,
      rules: trace.mainFlag.checks,
    });
  if (trace.mainFlag?.outcome.on) {
    const bounds = {
      enrollmentStart: experiment.keyValues.enrollment_start || null,
      enrollmentEnd: experiment.keyValues.enrollment_end || null,
    };
    if (trace.window)
      steps.push({
        check: 'enrollment_window',
        verdict: trace.window.verdict,
        bound: trace.window.bound,
        ...bounds,
        enrolledAt: trace.window.enrolledAt,
        usedDecisionTime: trace.window.usedEventTime,
      });
    else
      steps.push({
        check: 'enrollment_window',
        verdict: 'not_applicable',
        skipped: input.courseId === undefined ? 'no_course' : 'no_experiment_id',
        ...bounds,
      });
  }
  for (const { bucket, outcome, checks } of trace.bucketFlags)
    steps.push({
      check: 'bucket_flag',
      bucket,
      flag: bucketFlagName(experiment, bucket),
      defined: true,
      on: outcome.on,
      decidedBy: outcome.rule,
      rules: checks,
    });
  if (trace.holdout) steps.push({ check: 'holdout', ...trace.holdout });
  const version = bucketVersionAt(experiment, input.now);
  if (trace.hashGroup !== undefined && decision.bucketed)
    steps.push({
      check: 'hash',
      group: trace.hashGroup,
      numBuckets: experiment.numBuckets,
      bucket: decision.bucket,
      ...(version > 0 ? { bucketVersion: version } : {}),
    });
  return { decision, steps };
}
