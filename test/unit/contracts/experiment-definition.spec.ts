import { validateExperiment, validateExperimentsFile } from '@assigner/contracts';

const minimal = { namespace: 'course_experience', name: 'animated_exy' };

describe('experiment definitions', () => {
  it("fills edx-platform's defaults", () => {
    const result = validateExperiment(minimal);
    expect(result).toEqual({
      ok: true,
      warnings: [],
      value: {
        namespace: 'course_experience',
        name: 'animated_exy',
        experimentId: undefined,
        numBuckets: 2,
        courseAwareBucketing: true,
        scope: 'course',
        triggers: ['page_view'],
        flag: undefined,
        bucketFlags: {},
        keyValues: {},
      },
    });
  });

  it('keeps a full definition', () => {
    const result = validateExperiment({
      ...minimal,
      experimentId: 7,
      numBuckets: 3,
      courseAwareBucketing: false,
      scope: 'global',
      triggers: ['page_view', 'enrollment'],
      flag: {
        everyone: null,
        percent: 12.5,
        orgs: { MITx: 'on' },
        courses: { 'course-v1:A+B+C': 'off' },
      },
      bucketFlags: { '2': { users: ['carol'] } },
      keyValues: { enrollment_start: '2016-09-01', enrollment_end: '2016-10-01T00:00:00Z' },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.flag).toMatchObject({
      percent: 12.5,
      orgs: { MITx: 'on' },
      courses: { 'course-v1:A+B+C': 'off' },
    });
    expect(result.value.bucketFlags[2]).toMatchObject({ users: ['carol'], everyone: null });
  });

  it('lists every problem of a file by path, and accepts nothing from it', () => {
    const result = validateExperimentsFile({
      experiments: [
        minimal,
        { ...minimal, name: 'other', numBuckets: 1.5 },
        {
          namespace: 'ns',
          name: 'x',
          numBuckets: 3,
          bucketFlags: { '5': { everyone: true }, one: {} },
          flag: { percent: 120, courses: { 'a/b/c': 'yes' } },
          triggers: ['page_view', 'click'],
          colour: 'red',
        },
        { ...minimal },
        'not an object',
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(
      expect.arrayContaining([
        'experiments[1].numBuckets: must be a whole number from 1 to 1000',
        'experiments[2].bucketFlags.5: bucket 5 is outside numBuckets 3',
        'experiments[2].bucketFlags.one: keys must be bucket numbers',
        'experiments[2].flag.percent: must be a number from 0 to 100 or null',
        'experiments[2].flag.courses.a/b/c: must be "on" or "off"',
        'experiments[2].triggers: must be a list of "page_view" and "enrollment"',
        'experiments[2].colour: is not a known field',
        'experiments[3].name: course_experience.animated_exy is already defined by experiments[0]',
        'experiments[4]: must be an object',
      ]),
    );
    expect(result.problems).toHaveLength(9);
  });

  it('accepts a window bound that does not parse, with a warning, as edx-platform stores any value', () => {
    const result = validateExperiment({
      ...minimal,
      experimentId: 1,
      keyValues: { enrollment_start: 'not-a-date' },
    });
    expect(result).toMatchObject({
      ok: true,
      warnings: [expect.stringContaining('enrollment_start: "not-a-date" is not an ISO-8601 date')],
    });
  });

  it('rejects a file without an experiments list, and a namespace with a dot', () => {
    expect(validateExperimentsFile([])).toMatchObject({ ok: false });
    expect(validateExperiment({ namespace: 'a.b', name: 'c' })).toEqual({
      ok: false,
      problems: ['experiment.namespace: must be letters, digits, "_" or "-"'],
    });
  });
});
