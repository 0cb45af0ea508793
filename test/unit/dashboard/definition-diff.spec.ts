import { definitionChanges } from '../../../web/dashboard/src/definition-diff';

describe("the history's field-by-field changes", () => {
  const before = {
    numBuckets: 2,
    flag: { everyone: true, courses: { 'course-v1:MITx+6.00x+2026': 'on' }, users: ['ann'] },
    keyValues: { enrollment_start: '2026-03-01' },
  };

  it('names each changed, added and removed leaf by its path', () => {
    const after = {
      numBuckets: 3,
      flag: { everyone: true, courses: {}, users: ['ann', 'bob'] },
      keyValues: { enrollment_start: '2026-03-01', enrollment_end: '2026-04-01' },
    };
    expect(definitionChanges(before, after)).toEqual([
      { path: 'numBuckets', before: 2, after: 3 },
      { path: 'flag.courses.course-v1:MITx+6.00x+2026', before: 'on' },
      { path: 'flag.users[1]', after: 'bob' },
      { path: 'keyValues.enrollment_end', after: '2026-04-01' },
    ]);
  });

  it('finds nothing in an unchanged definition, and everything in a new one', () => {
    expect(definitionChanges(before, structuredClone(before))).toEqual([]);
    expect(definitionChanges({}, { numBuckets: 2 })).toEqual([{ path: 'numBuckets', after: 2 }]);
  });

  it('reports a value that changed type whole', () => {
    expect(definitionChanges({ flag: { percent: null } }, { flag: { percent: 20 } })).toEqual([
      { path: 'flag.percent', before: null, after: 20 },
    ]);
  });
});
