/** The events that may cause a decision for an experiment. */
export type Trigger = 'page_view' | 'enrollment';
/** "course": decided per course, only for events with a course. "global": one decision per user, without course. */
export type Scope = 'course' | 'global';
export type Toggle = 'on' | 'off';

/** A waffle-style flag: the first decisive rule wins (see evaluateFlag). */
export interface FlagRule {
  everyone: boolean | null;
  percent: number | null;
  authenticated: boolean;
  staff: boolean;
  superusers: boolean;
  users: readonly string[];
  courses: Readonly<Record<string, Toggle>>;
  orgs: Readonly<Record<string, Toggle>>;
}

/**
 * A holdout covering this experiment: learners whose stable hash of the holdout's name falls in
 * its first `percent` of 100 are bucketed in none of the experiments it covers. Experiments
 * naming the same holdout share it (the same learners are held out of all of them).
 */
export interface HoldoutRule {
  /** `namespace.name`, like an experiment's: its membership is reported under it. */
  name: string;
  /** 0–100, in hundredths at most. */
  percent: number;
}

/**
 * This experiment's place in a layer of mutually exclusive experiments: the share `[start, end)`
 * (percent, hundredths at most) of the layer's stable hash that it owns. The experiments of a
 * layer own disjoint shares, and a learner holds assignments in at most one of them.
 */
export interface LayerSlot {
  name: string;
  range: readonly [number, number];
}

export interface Experiment {
  namespace: string;
  name: string;
  /** Date windows (keyValues enrollment_start/end) apply only when set, as in edx-platform. */
  experimentId?: number;
  numBuckets: number;
  courseAwareBucketing: boolean;
  scope: Scope;
  triggers: readonly Trigger[];
  /** The main flag, the kill switch; absent means off. */
  flag?: FlagRule;
  /** Forcing flags, by bucket number. */
  bucketFlags: Readonly<Record<number, FlagRule>>;
  keyValues: Readonly<Record<string, string>>;
  /**
   * Raised to re-randomize: decisions from then on hash under a group of this version, earlier
   * ones stay in the assignments' histories. Absent or 0: edx-platform's hash, unchanged.
   */
  bucketVersion?: number;
  /**
   * When each version from 1 on took effect (ISO-8601), so that events from before it keep the
   * version they were decided under (see `bucketVersionAt`). Filled in by `experiments apply`
   * and the API when a version is raised without one.
   */
  bucketVersionFrom?: Readonly<Record<string, string>>;
  holdout?: HoldoutRule;
  layer?: LayerSlot;
}

/** "namespace.name", the waffle flag name edx-platform hashes and reports. */
export function namespacedName(experiment: Pick<Experiment, 'namespace' | 'name'>): string {
  return `${experiment.namespace}.${experiment.name}`;
}

/**
 * The course a decision of this experiment is made for, given the course of the event (or the
 * question): none for global experiments; course-scoped ones decide only with a course
 * (undefined: no decision).
 */
export function decisionCourseOf(
  experiment: Pick<Experiment, 'scope'>,
  courseId: string | null,
): string | null | undefined {
  if (experiment.scope === 'global') return null;
  return courseId ?? undefined;
}

/** edx-platform names bucket flag n of "ns.name" as "ns.name.n". */
export function bucketFlagName(
  experiment: Pick<Experiment, 'namespace' | 'name'>,
  bucket: number,
): string {
  return `${namespacedName(experiment)}.${bucket}`;
}

export const FLAG_RULE_DEFAULTS: FlagRule = {
  everyone: null,
  percent: null,
  authenticated: false,
  staff: false,
  superusers: false,
  users: [],
  courses: {},
  orgs: {},
};
