import { evaluateFlag, orgOfCourse, stableBucketReference } from '@assigner/domain';
import { flag } from '../../support/experiments';

const alice = { userId: 1, username: 'alice' };

describe('flag evaluation', () => {
  it('finds the org of modern, CCX and old-style course keys', () => {
    expect(orgOfCourse('course-v1:MITx+6.00.1x+2T2026')).toBe('MITx');
    expect(orgOfCourse('ccx-v1:HarvardX+CS50+2026+ccx@3')).toBe('HarvardX');
    expect(orgOfCourse('edX/DemoX/Demo_Course')).toBe('edX');
    expect(orgOfCourse('not a course')).toBeUndefined();
    expect(orgOfCourse('a//c')).toBeUndefined();
  });

  it('lets a course override beat an org override, and an org override beat everyone', () => {
    const rule = flag({
      everyone: false,
      orgs: { MITx: 'on' },
      courses: { 'course-v1:MITx+B+1': 'off' },
    });
    expect(evaluateFlag(rule, 'f', alice, 'course-v1:MITx+A+1')).toEqual({
      on: true,
      rule: 'org_override',
    });
    expect(evaluateFlag(rule, 'f', alice, 'course-v1:MITx+B+1')).toEqual({
      on: false,
      rule: 'course_override',
    });
    expect(evaluateFlag(rule, 'f', alice, 'course-v1:edX+A+1')).toEqual({
      on: false,
      rule: 'everyone',
    });
    expect(evaluateFlag(rule, 'f', alice)).toEqual({ on: false, rule: 'everyone' });
  });

  it('applies the waffle rules in order when everyone is unset', () => {
    expect(evaluateFlag(flag({ authenticated: true }), 'f', alice)).toEqual({
      on: true,
      rule: 'authenticated',
    });
    expect(evaluateFlag(flag({ authenticated: true }), 'f', {})).toEqual({
      on: false,
      rule: 'no_rule_matched',
    });
    expect(evaluateFlag(flag({ staff: true }), 'f', { ...alice, isStaff: true })).toEqual({
      on: true,
      rule: 'staff',
    });
    expect(evaluateFlag(flag({ staff: true }), 'f', alice)).toEqual({
      on: false,
      rule: 'no_rule_matched',
    });
    expect(
      evaluateFlag(flag({ superusers: true }), 'f', { ...alice, isSuperuser: true }),
    ).toMatchObject({ rule: 'superusers' });
    expect(evaluateFlag(flag({ users: ['alice'] }), 'f', alice)).toEqual({
      on: true,
      rule: 'users',
    });
    expect(evaluateFlag(flag({ users: ['bob'] }), 'f', alice)).toEqual({
      on: false,
      rule: 'no_rule_matched',
    });
    expect(evaluateFlag(undefined, 'f', alice)).toEqual({ on: false, rule: 'no_rule_matched' });
  });

  it('passes percent stably per user, on the "<flag name>.percent" hash', () => {
    const usernames = Array.from({ length: 2000 }, (_, i) => `learner${i}`);
    const on = usernames.filter(
      (username) => evaluateFlag(flag({ percent: 30 }), 'ns.exp', { username }).on,
    );
    expect(on.length / usernames.length).toBeGreaterThan(0.26);
    expect(on.length / usernames.length).toBeLessThan(0.34);
    for (const username of usernames.slice(0, 200)) {
      const expected = stableBucketReference('ns.exp.percent', 100, username) < 30;
      expect(evaluateFlag(flag({ percent: 30 }), 'ns.exp', { username }).on).toBe(expected);
    }
    expect(evaluateFlag(flag({ percent: 0 }), 'f', alice).on).toBe(false);
    expect(evaluateFlag(flag({ percent: 100 }), 'f', alice)).toEqual({ on: true, rule: 'percent' });
  });
});
