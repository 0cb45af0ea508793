// The cases of edx-platform's lms/djangoapps/experiments/tests/test_flags.py, ported. There the
// flag is ExperimentWaffleFlag('experiments', 'test', num_buckets=2, experiment_id=0), the course
// is a/b/c, and bucket flag 1 is on, so a bucketed learner lands in bucket 1.
import {
  decide,
  parseIsoMicros,
  stableBucketReference,
  type DecisionInput,
} from '@assigner/domain';
import { experiment, flag, ON } from '../../support/experiments';

const at = (text: string): number => parseIsoMicros(text)!;
const NOW = at('2026-11-25T12:00:00Z');
const learner: DecisionInput = { userId: 42, username: 'learner42', courseId: 'a/b/c', now: NOW };
const testFlag = (overrides: Parameters<typeof experiment>[0] = {}) =>
  experiment({ experimentId: 0, bucketFlags: { 1: ON }, ...overrides });
const bucketOf = (decision: ReturnType<typeof decide>): number =>
  decision.bucketed ? decision.bucket : 0;

describe('ExperimentWaffleFlag, as edx-platform tests it', () => {
  it('happy path: bucket 1', () => {
    expect(decide(testFlag(), learner)).toEqual({ bucketed: true, bucket: 1, reason: 'forced' });
  });

  it('no request user: bucket 0, not bucketed', () => {
    expect(decide(testFlag(), { ...learner, userId: undefined, username: undefined })).toEqual({
      bucketed: false,
      reason: 'anonymous',
    });
  });

  it('experiment flag not enabled: bucket 0', () => {
    expect(decide(testFlag({ flag: flag({ everyone: false }) }), learner)).toEqual({
      bucketed: false,
      reason: 'flag_off',
    });
    expect(decide(testFlag({ flag: undefined }), learner)).toEqual({
      bucketed: false,
      reason: 'flag_off',
    });
  });

  type WindowRow = [
    bound: string | undefined,
    enrolled: string | undefined,
    bucket: number,
    why: string,
  ];

  describe('enrollment_start', () => {
    it.each<WindowRow>([
      ['2012-01-06', undefined, 1, 'no enrollment, start in the past'],
      ['9999-01-06', undefined, 0, 'no enrollment, start in the future'],
      ['2012-01-06', '2012-01-05', 0, 'enrolled before the experiment start'],
      ['2012-01-06', '2012-01-07', 1, 'enrolled after the experiment start'],
      [undefined, '2012-01-07', 1, 'no experiment date'],
      ['not-a-date', '2012-01-07', 0, 'bad experiment date'],
    ])('start %s, enrolled %s → bucket %i (%s)', (start, enrolled, expected) => {
      const decision = decide(testFlag({ keyValues: start ? { enrollment_start: start } : {} }), {
        ...learner,
        enrolledAt: enrolled ? at(enrolled) : undefined,
      });
      expect(bucketOf(decision)).toBe(expected);
    });
  });

  describe('enrollment_end', () => {
    it.each<WindowRow>([
      ['2012-01-06', undefined, 0, 'no enrollment, end in the past'],
      ['9999-01-06', undefined, 1, 'no enrollment, end in the future'],
      ['2012-01-06', '2012-01-05', 1, 'enrolled before the experiment end'],
      ['2012-01-06', '2012-01-07', 0, 'enrolled after the experiment end'],
      [undefined, '2012-01-07', 1, 'no experiment date'],
      ['not-a-date', '2012-01-07', 0, 'bad experiment date'],
    ])('end %s, enrolled %s → bucket %i (%s)', (end, enrolled, expected) => {
      const decision = decide(testFlag({ keyValues: end ? { enrollment_end: end } : {} }), {
        ...learner,
        enrolledAt: enrolled ? at(enrolled) : undefined,
      });
      expect(bucketOf(decision)).toBe(expected);
    });
  });

  it('names the reason of every window outcome', () => {
    const decideWith = (keyValues: Record<string, string>, enrolled?: string) =>
      decide(testFlag({ keyValues }), {
        ...learner,
        enrolledAt: enrolled ? at(enrolled) : undefined,
      });
    expect(decideWith({ enrollment_start: '9999-01-06' })).toMatchObject({
      reason: 'before_window',
    });
    expect(decideWith({ enrollment_end: '2012-01-06' })).toMatchObject({ reason: 'after_window' });
    expect(decideWith({ enrollment_end: 'not-a-date' }, '2012-01-07')).toMatchObject({
      reason: 'bad_window_date',
    });
    // Bounds are inclusive at the start and exclusive at the end.
    expect(decideWith({ enrollment_start: '2012-01-06' }, '2012-01-06')).toMatchObject({
      bucketed: true,
    });
    expect(decideWith({ enrollment_end: '2012-01-06' }, '2012-01-06')).toMatchObject({
      reason: 'after_window',
    });
  });

  it('applies windows only to experiments with an id, and only with a course', () => {
    const keyValues = { enrollment_start: '9999-01-06' };
    expect(decide(testFlag({ keyValues, experimentId: undefined }), learner)).toMatchObject({
      bucketed: true,
    });
    expect(decide(testFlag({ keyValues }), { ...learner, courseId: undefined })).toMatchObject({
      bucketed: true,
    });
  });

  it.each([
    [true, 0],
    [false, 1],
  ])(
    'forcing bucket 0 on=%s → bucket %i (the first enabled bucket flag wins)',
    (active, expected) => {
      const decision = decide(
        testFlag({ bucketFlags: { 0: flag({ everyone: active }), 1: ON } }),
        learner,
      );
      expect(bucketOf(decision)).toBe(expected);
    },
  );
});

describe('course-aware and course-unaware bucketing, as edx-platform tests it', () => {
  // exp.aware.1 and exp.unaware.1 are forced on for course x/y/1 by a course override.
  const forcedInCourse1 = { 1: flag({ courses: { 'x/y/1': 'on' } }) };
  const aware = experiment({
    namespace: 'exp',
    name: 'aware',
    numBuckets: 20,
    bucketFlags: forcedInCourse1,
  });
  const unaware = experiment({
    namespace: 'exp',
    name: 'unaware',
    numBuckets: 20,
    courseAwareBucketing: false,
    bucketFlags: forcedInCourse1,
  });
  const username = 'audit';
  const inCourse = (courseId?: string): DecisionInput => ({
    userId: 7,
    username,
    courseId,
    now: NOW,
  });

  it('course-aware: forced in course 1, hashed per course elsewhere, and its own bucket without a course', () => {
    expect(decide(aware, inCourse('x/y/1'))).toEqual({
      bucketed: true,
      bucket: 1,
      reason: 'forced',
    });
    for (const course of ['x/y/22', 'x/y/333']) {
      expect(decide(aware, inCourse(course))).toEqual({
        bucketed: true,
        bucket: stableBucketReference(`exp.aware.${course}`, 20, username),
        reason: 'hash',
      });
    }
    expect(decide(aware, inCourse())).toEqual({
      bucketed: true,
      bucket: stableBucketReference('exp.aware', 20, username),
      reason: 'hash',
    });
    // The reference vectors pin these: exp.aware.x/y/22 puts "audit" in bucket 14.
    expect(decide(aware, inCourse('x/y/22'))).toMatchObject({ bucket: 14 });
  });

  it('course-unaware: still forced by the course override, otherwise one bucket everywhere', () => {
    expect(decide(unaware, inCourse('x/y/1'))).toEqual({
      bucketed: true,
      bucket: 1,
      reason: 'forced',
    });
    const everywhere = stableBucketReference('exp.unaware', 20, username);
    for (const course of ['x/y/22', 'x/y/333', undefined]) {
      expect(decide(unaware, inCourse(course))).toEqual({
        bucketed: true,
        bucket: everywhere,
        reason: 'hash',
      });
    }
  });
});
