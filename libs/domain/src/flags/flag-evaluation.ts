import { stableBucket } from '../bucketing/stable-bucket';
import type { FlagRule } from '../experiment/experiment';
import { orgOfCourse } from './course-key';

/** Who is asking, as far as flags care. */
export interface FlagSubject {
  userId?: number;
  username?: string;
  isStaff?: boolean;
  isSuperuser?: boolean;
}

export type FlagRuleName =
  | 'course_override'
  | 'org_override'
  | 'everyone'
  | 'authenticated'
  | 'staff'
  | 'superusers'
  | 'users'
  | 'percent'
  | 'no_rule_matched';

export interface FlagOutcome {
  on: boolean;
  /** The rule that decided, for explanations. */
  rule: FlagRuleName;
}

/** One rule consulted, for explanations: "not_set" when the flag does not configure it. */
export interface FlagRuleCheck {
  rule: Exclude<FlagRuleName, 'no_rule_matched'>;
  result: 'on' | 'off' | 'no_match' | 'not_set';
}

type RuleResult = FlagRuleCheck['result'];
type RuleStep = [
  FlagRuleCheck['rule'],
  (rule: FlagRule, flagName: string, subject: FlagSubject, courseKey?: string) => RuleResult,
];

const matches = (yes: boolean): RuleResult => (yes ? 'on' : 'no_match');

function hasEntries(record: object): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

/** A CourseWaffleFlag's rules in the order it consults them; the first "on" or "off" decides. */
const RULE_ORDER: readonly RuleStep[] = [
  [
    'course_override',
    (rule, _, __, courseKey) =>
      courseKey === undefined ? 'not_set' : (rule.courses[courseKey] ?? 'not_set'),
  ],
  [
    'org_override',
    (rule, _, __, courseKey) => {
      // Most flags override no org: no need to parse the course key for them.
      if (courseKey === undefined || !hasEntries(rule.orgs)) return 'not_set';
      const org = orgOfCourse(courseKey);
      return org === undefined ? 'not_set' : (rule.orgs[org] ?? 'not_set');
    },
  ],
  ['everyone', (rule) => (rule.everyone === null ? 'not_set' : rule.everyone ? 'on' : 'off')],
  [
    'authenticated',
    (rule, _, subject) => (rule.authenticated ? matches(subject.userId !== undefined) : 'not_set'),
  ],
  ['staff', (rule, _, subject) => (rule.staff ? matches(subject.isStaff === true) : 'not_set')],
  [
    'superusers',
    (rule, _, subject) => (rule.superusers ? matches(subject.isSuperuser === true) : 'not_set'),
  ],
  [
    'users',
    (rule, _, subject) =>
      rule.users.length === 0
        ? 'not_set'
        : matches(subject.username !== undefined && rule.users.includes(subject.username)),
  ],
  [
    'percent',
    (rule, flagName, subject) =>
      rule.percent === null
        ? 'not_set'
        : matches(
            subject.username !== undefined &&
              stableBucket(`${flagName}.percent`, 100, subject.username) < rule.percent,
          ),
  ],
];

/**
 * A CourseWaffleFlag's answer for a subject and an optional course: course override, then org
 * override, then the waffle rules in waffle's order. `percent` is stable per user (waffle rolls
 * a random number per request, which a replayable worker cannot): it passes when the user's
 * bucket of 100 under "<flag name>.percent" is below the percentage. With `checks`, every rule
 * consulted is recorded there, for explanations.
 */
export function evaluateFlag(
  rule: FlagRule | undefined,
  flagName: string,
  subject: FlagSubject,
  courseKey?: string,
  checks?: FlagRuleCheck[],
): FlagOutcome {
  if (!rule) return { on: false, rule: 'no_rule_matched' };
  for (const [name, check] of RULE_ORDER) {
    const result = check(rule, flagName, subject, courseKey);
    checks?.push({ rule: name, result });
    if (result === 'on' || result === 'off') return { on: result === 'on', rule: name };
  }
  return { on: false, rule: 'no_rule_matched' };
}
