import { AssignmentCounter, type CountedAssignment } from '@assigner/domain';

const assignment = (overrides: Partial<CountedAssignment>): CountedAssignment => ({
  courseId: 'course-v1:X+A+1',
  bucket: 0,
  reason: 'hash',
  firstDecidedAt: 1_000,
  lastDecidedAt: 1_000,
  ...overrides,
});

describe('AssignmentCounter', () => {
  it('counts per course, bucket and reason, and spans the first and last decisions', () => {
    const counter = new AssignmentCounter();
    counter.add(assignment({ firstDecidedAt: 5_000, lastDecidedAt: 9_000 }));
    counter.add(assignment({ firstDecidedAt: 2_000, lastDecidedAt: 3_000 }));
    counter.add(assignment({ bucket: 1 }));
    counter.add(assignment({ bucket: 1, reason: 'forced', lastDecidedAt: 7_000 }));
    counter.add(assignment({ courseId: null, bucket: 1 }));
    const { rows, first, last } = counter.tally();
    expect(rows).toEqual(
      expect.arrayContaining([
        { courseId: 'course-v1:X+A+1', bucket: 0, reason: 'hash', count: 2 },
        { courseId: 'course-v1:X+A+1', bucket: 1, reason: 'hash', count: 1 },
        { courseId: 'course-v1:X+A+1', bucket: 1, reason: 'forced', count: 1 },
        { courseId: null, bucket: 1, reason: 'hash', count: 1 },
      ]),
    );
    expect(rows).toHaveLength(4);
    expect({ first, last }).toEqual({ first: 1_000, last: 9_000 });
  });

  it('tells a course named "null" from the course-less decisions of a global experiment', () => {
    const counter = new AssignmentCounter();
    counter.add(assignment({ courseId: null }));
    counter.add(assignment({ courseId: 'null' }));
    expect(counter.tally().rows.map((row) => row.courseId)).toEqual([null, 'null']);
  });

  it('has no time range without assignments', () => {
    expect(new AssignmentCounter().tally()).toEqual({
      rows: [],
      first: undefined,
      last: undefined,
      daily: [],
    });
  });
});
