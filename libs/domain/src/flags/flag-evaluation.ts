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

/**
 * A CourseWaffleFlag's answer for a subject and an optional course: course override, then org
 * override, then the waffle rules in waffle's order. `percent` is stable per user (waffle rolls
 * a random number per request, which a replayable worker cannot): it passes when the user's
 * bucket of 100 under "<flag name>.percent" is below the percentage.
 */
export function evaluateFlag(
  rule: FlagRule | undefined,
  flagName: string,
  subject: FlagSubject,
  courseKey?: string,
): FlagOutcome {
  if (!rule) return { on: false, rule: 'no_rule_matched' };
  if (courseKey !== undefined) {
    const course = rule.courses[courseKey];
    if (course) return { on: course === 'on', rule: 'course_override' };
    const org = orgOfCourse(courseKey);
    const orgToggle = org === undefined ? undefined : rule.orgs[org];
    if (orgToggle) return { on: orgToggle === 'on', rule: 'org_override' };
  }
  if (rule.everyone !== null) return { on: rule.everyone, rule: 'everyone' };
  if (rule.authenticated && subject.userId !== undefined)
    return { on: true, rule: 'authenticated' };
  if (rule.staff && subject.isStaff === true) return { on: true, rule: 'staff' };
  if (rule.superusers && subject.isSuperuser === true) return { on: true, rule: 'superusers' };
  if (subject.username !== undefined && rule.users.includes(subject.username))
    return { on: true, rule: 'users' };
  if (
    rule.percent !== null &&
    subject.username !== undefined &&
    stableBucket(`${flagName}.percent`, 100, subject.username) < rule.percent
  ) {
    return { on: true, rule: 'percent' };
  }
  return { on: false, rule: 'no_rule_matched' };
}
