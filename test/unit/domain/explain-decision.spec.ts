import {
  decide,
  explainDecision,
  parseIsoMicros,
  stableBucketReference,
  type DecisionInput,
  type Experiment,
} from '@assigner/domain';
import { experiment, flag } from '../../support/experiments';

const COURSE = 'course-v1:MITx+6.00x+2026';
const at = (iso: string) => parseIsoMicros(iso)!;
const alice: DecisionInput = {
  userId: 7,
  username: 'alice',
  courseId: COURSE,
  now: at('2026-03-10T00:00:00Z'),
  enrolledAt: at('2026-03-01T00:00:00Z'),
};
const windowed = (keyValues: Record<string, string>, overrides: Partial<Experiment> = {}) =>
  experiment({ experimentId: 3, keyValues, ...overrides });

describe('explainDecision', () => {
  it.each<[string, Experiment, DecisionInput]>([
    ['anonymous', experiment(), { ...alice, userId: undefined }],
    ['no_username', experiment(), { ...alice, username: undefined }],
    ['flag_off', experiment({ flag: undefined }), alice],
    ['before_window', windowed({ enrollment_start: '2026-03-02' }), alice],
    ['after_window', windowed({ enrollment_end: '2026-03-01' }), alice],
    ['bad_window_date', windowed({ enrollment_end: 'June' }), alice],
    ['forced', experiment({ bucketFlags: { 1: flag({ users: ['alice'] }) } }), alice],
    ['hash', windowed({ enrollment_start: '2026-01-01' }), alice],
  ])('%s: gives the decision decide gives', (reason, subject, input) => {
    const { decision } = explainDecision(subject, input);
    expect(decision).toEqual(decide(subject, input));
    expect(decision.reason).toBe(reason);
  });

  it('stops at the learner when there is nobody to decide for', () => {
    expect(explainDecision(experiment(), { ...alice, userId: undefined }).steps).toEqual([
      { check: 'learner', result: 'anonymous' },
    ]);
  });

  it('shows an undefined main flag as such', () => {
    expect(explainDecision(experiment({ flag: undefined }), alice).steps[1]).toEqual({
      check: 'main_flag',
      flag: 'experiments.test',
      defined: false,
      on: false,
      decidedBy: 'no_rule_matched',
      rules: [],
    });
  });

  it('lists each flag rule consulted, up to the one that decided', () => {
    const subject = experiment({ flag: flag({ orgs: { MITx: 'on' }, everyone: false }) });
    expect(explainDecision(subject, alice).steps[1]).toMatchObject({
      on: true,
      decidedBy: 'org_override',
      rules: [
        { rule: 'course_override', result: 'not_set' },
        { rule: 'org_override', result: 'on' },
      ],
    });
    const byUsers = experiment({ flag: flag({ users: ['bob'], percent: 100 }) });
    expect(explainDecision(byUsers, alice).steps[1]).toMatchObject({
      decidedBy: 'percent',
      rules: [
        { rule: 'course_override', result: 'not_set' },
        { rule: 'org_override', result: 'not_set' },
        { rule: 'everyone', result: 'not_set' },
        { rule: 'authenticated', result: 'not_set' },
        { rule: 'staff', result: 'not_set' },
        { rule: 'superusers', result: 'not_set' },
        { rule: 'users', result: 'no_match' },
        { rule: 'percent', result: 'on' },
      ],
    });
  });

  it('shows the window bounds and the enrollment time compared, or why no window applies', () => {
    const subject = windowed({ enrollment_start: '2026-03-02', enrollment_end: '' });
    expect(explainDecision(subject, { ...alice, enrolledAt: undefined }).steps[2]).toEqual({
      check: 'enrollment_window',
      verdict: 'inside',
      bound: undefined,
      enrollmentStart: '2026-03-02',
      enrollmentEnd: null,
      enrolledAt: alice.now,
      usedDecisionTime: true,
    });
    expect(explainDecision(experiment(), alice).steps[2]).toMatchObject({
      verdict: 'not_applicable',
      skipped: 'no_experiment_id',
    });
    expect(explainDecision(windowed({}), { ...alice, courseId: undefined }).steps[2]).toMatchObject(
      { verdict: 'not_applicable', skipped: 'no_course' },
    );
  });

  it('ends a hashed decision with the group hashed, which the reference hash agrees with', () => {
    const subject = experiment({ numBuckets: 5, bucketFlags: { 3: flag({ staff: true }) } });
    const { decision, steps } = explainDecision(subject, alice);
    const bucket = stableBucketReference(`experiments.test.${COURSE}`, 5, 'alice');
    expect(decision).toEqual({ bucketed: true, bucket, reason: 'hash' });
    expect(steps.slice(-2)).toEqual([
      {
        check: 'bucket_flag',
        bucket: 3,
        flag: 'experiments.test.3',
        defined: true,
        on: false,
        decidedBy: 'no_rule_matched',
        rules: expect.arrayContaining([{ rule: 'staff', result: 'no_match' }]) as unknown,
      },
      { check: 'hash', group: `experiments.test.${COURSE}`, numBuckets: 5, bucket },
    ]);
  });
});
