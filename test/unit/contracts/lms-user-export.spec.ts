import { parseLmsUserExport, validateLearnerAttributesBody } from '@assigner/contracts';
import { applyEvent, emptyUserState, parseIsoMicros } from '@assigner/domain';
import { experiment, flag } from '../../support/experiments';

describe('an LMS export of auth_user', () => {
  it('reads CSV and mysql --batch output, in any column order, keeping only staff and superusers', () => {
    const csv = parseLmsUserExport(
      'username,is_superuser,id,is_staff\r\nann,t,1,f\nbob,0,2,0\n\n"carl",false,3,true\n',
    );
    const tsv = parseLmsUserExport('id\tis_staff\tis_superuser\n1\t0\t1\n3\t1\t0\n');
    const expected = [
      { userId: 1, isStaff: false, isSuperuser: true },
      { userId: 3, isStaff: true, isSuperuser: false },
    ];
    expect(csv).toEqual({ ok: true, value: expected, warnings: [] });
    expect(tsv).toEqual({ ok: true, value: expected, warnings: [] });
  });

  it('lists every problem by line, and a header without the columns it needs', () => {
    expect(parseLmsUserExport('id,is_staff,is_superuser\n1,1\n0,1,1\n2,0,1\n2,1,1\n')).toEqual({
      ok: false,
      problems: [
        'line 2: is_superuser undefined is not 1/0 or true/false',
        'line 3: id "0" is not a user id',
        'line 5: user 2 is already in line 4',
      ],
    });
    expect(parseLmsUserExport('username,staff\nann,1\n')).toEqual({
      ok: false,
      problems: [
        'line 1: the header must name id (or user_id), is_staff, is_superuser (it has username, staff)',
      ],
    });
    expect(parseLmsUserExport('\n\n')).toEqual({ ok: false, problems: ['the export is empty'] });
  });
});

describe("the admin API's form of an export", () => {
  it('lists every problem of its shape and rows', () => {
    expect(validateLearnerAttributesBody({ rows: [] })).toEqual({
      ok: false,
      problems: ['body: must be {"learners": [{"id", "is_staff", "is_superuser"}, ...]}'],
    });
    expect(
      validateLearnerAttributesBody({
        learners: [{ id: -1, is_staff: true, is_superuser: false, colour: 'red' }, 'x'],
      }),
    ).toEqual({
      ok: false,
      problems: [
        'body.learners[0].colour: is not a known field',
        'body.learners[1]: must be an object',
        'body.learners[0]: id -1 is not a user id',
      ],
    });
  });

  it('reads the rows, a username allowed', () => {
    expect(
      validateLearnerAttributesBody({
        learners: [{ id: 3, username: 'ann', is_staff: '1', is_superuser: false }],
      }),
    ).toEqual({
      ok: true,
      value: [{ userId: 3, isStaff: true, isSuperuser: false }],
      warnings: [],
    });
  });
});

describe('decisions on learner attributes', () => {
  const view = {
    kind: 'page_view' as const,
    userId: 7,
    username: 'alice',
    courseId: 'course-v1:edX+DemoX+2026',
    time: parseIsoMicros('2026-03-01T00:00:00Z')!,
  };
  const superusersFirst = experiment({ bucketFlags: { 1: flag({ superusers: true }) } });

  it('feed the superusers and staff rules', () => {
    const attributes = { userId: 7, isStaff: true, isSuperuser: true };
    const forced = applyEvent(emptyUserState(7), view, [superusersFirst], undefined, attributes);
    expect(forced.decisions[0]?.decision).toEqual({ bucketed: true, bucket: 1, reason: 'forced' });
    expect(forced.changes[0]?.change.isStaff).toBe(true);
    const staffOnly = experiment({ flag: flag({ staff: true }) });
    expect(
      applyEvent(emptyUserState(7), view, [staffOnly], undefined, attributes).decisions[0]?.decision
        .bucketed,
    ).toBe(true);
    expect(applyEvent(emptyUserState(7), view, [staffOnly]).decisions[0]?.decision).toEqual({
      bucketed: false,
      reason: 'flag_off',
    });
  });

  it("yield to the event's own is_staff", () => {
    const staffOnly = experiment({ flag: flag({ staff: true }) });
    const outcome = applyEvent(
      emptyUserState(7),
      { ...view, isStaff: false },
      [staffOnly],
      undefined,
      {
        userId: 7,
        isStaff: true,
        isSuperuser: false,
      },
    );
    expect(outcome.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'flag_off' });
  });
});
