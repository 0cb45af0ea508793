import { LearnerAttributesTable } from '@assigner/domain';
import { InMemoryAssigner } from '@assigner/pipeline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coursewareViewLine } from '../../workloads/synthetic-log';
import { AdminApiProcess, TOKENS } from '../support/admin-api';
import { assigner } from '../support/cli';
import { waitFor } from '../support/real-services';
import { byId, experimentsOf, summary, WorkerSystem } from '../support/worker-harness';

jest.setTimeout(300_000);

// Staff and superusers from an LMS export (CLI and API, validated, audited) feed the flag rules
// `staff` and `superusers`, in the worker as in simulate, and explain says where they came from.

const COURSE = 'course-v1:MITx+6.00x+2026';
const EXPERIMENTS = {
  experiments: [
    {
      namespace: 'staff_preview',
      name: 'new_outline',
      numBuckets: 2,
      flag: { everyone: true },
      // Superusers always see the new outline; staff never take part.
      bucketFlags: { '1': { superusers: true } },
    },
    { namespace: 'staff_preview', name: 'staff_only', numBuckets: 2, flag: { staff: true } },
  ],
};
const LINES = Array.from({ length: 60 }, (_, i) =>
  coursewareViewLine(i + 1, COURSE, `2026-03-01T10:${String(i).padStart(2, '0')}:00Z`),
);
/** As `mysql --batch -e 'SELECT id, username, is_staff, is_superuser FROM auth_user WHERE ...'` prints it. */
const EXPORT =
  'id\tusername\tis_staff\tis_superuser\n3\tlearner3\t1\t1\n5\tlearner5\t1\t0\n8\tlearner8\t0\t1\n';

describe('learner attributes from an LMS export', () => {
  const system = new WorkerSystem(2);
  const api = new AdminApiProcess({ MONGO_DB: system.database });
  const env = () => ({ ...process.env, MONGO_DB: system.database });
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'learner-attributes-'));
    await system.setUp(EXPERIMENTS);
    await api.start();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await api.stop();
    await system.tearDown();
  });

  it('are loaded with the CLI, whole or not at all, and audited', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'id,is_staff,is_superuser\n3,1,1\nx,0,1\n3,0,0\n4,1,yes-ish\n');
    const refused = assigner(['learners', 'import', '-f', bad], undefined, env());
    expect(refused.status).toBe(2);
    for (const problem of [
      'line 3: id "x" is not a user id',
      'line 4: user 3 is already in line 2',
      'line 5: is_superuser "yes-ish" is not 1/0 or true/false',
    ])
      expect(refused.stderr).toContain(problem);

    const good = join(dir, 'auth_user.tsv');
    writeFileSync(good, EXPORT);
    const loaded = assigner(['learners', 'import', '-f', good], undefined, env());
    expect(loaded.status).toBe(0);
    expect(JSON.parse(loaded.stdout)).toMatchObject({
      learners: 3,
      staff: 2,
      superusers: 2,
      added: 3,
      removed: 0,
      source: 'auth_user.tsv',
    });
    const imports = assigner(['learners', 'imports'], undefined, env()).stdout.trim().split('\n');
    expect(imports).toHaveLength(1);
    expect((JSON.parse(imports[0]!) as { actor: string }).actor).toMatch(/^cli:/);
  });

  it('are loaded through the API by editors only, every problem listed, and audited', async () => {
    const body = {
      learners: [
        { id: 3, is_staff: true, is_superuser: true },
        { id: 8, is_staff: false, is_superuser: true },
        { id: 12, is_staff: '1', is_superuser: '0' },
      ],
    };
    expect(
      (await api.request('PUT', '/learner-attributes', { token: TOKENS.reader, body })).status,
    ).toBe(403);
    const refused = await api.json<{ problems: string[] }>('PUT', '/learner-attributes', {
      token: TOKENS.editor,
      body: { learners: [{ id: -1, is_staff: true, is_superuser: false, colour: 'red' }, 'x'] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.problems).toEqual([
      'body.learners[0].colour: is not a known field',
      'body.learners[1]: must be an object',
      'body.learners[0]: id -1 is not a user id',
    ]);
    const loaded = await api.json('PUT', '/learner-attributes', { token: TOKENS.editor, body });
    expect(loaded.status).toBe(200);
    // learner5 left the export: not staff any more; learner12 is new.
    expect(loaded.body).toMatchObject({
      actor: 'alice',
      source: 'api',
      added: 1,
      changed: 0,
      removed: 1,
    });
    const listed = await api.json<{ learners: unknown[] }>('GET', '/learner-attributes', {
      token: TOKENS.reader,
    });
    expect(listed.body.learners).toEqual([
      { userId: 3, isStaff: true, isSuperuser: true },
      { userId: 8, isStaff: false, isSuperuser: true },
      { userId: 12, isStaff: true, isSuperuser: false },
    ]);
    const imports = await api.json<{ imports: { actor: string }[] }>(
      'GET',
      '/learner-attributes/imports',
      { token: TOKENS.reader },
    );
    expect(imports.body.imports.map(({ actor }) => actor)).toEqual([
      'alice',
      expect.stringMatching(/^cli:/),
    ]);
  });

  it('decide the staff and superusers rules in the worker as in simulate, and explain says where they came from', async () => {
    await system.startWorker();
    await system.produce(LINES, true);
    await waitFor(
      'the worker to consume the page views',
      () => system.consumedEverything(),
      60_000,
    );
    const reference = new InMemoryAssigner(
      experimentsOf(EXPERIMENTS),
      new LearnerAttributesTable([
        { userId: 3, isStaff: true, isSuperuser: true },
        { userId: 8, isStaff: false, isSuperuser: true },
        { userId: 12, isStaff: true, isSuperuser: false },
      ]),
    );
    const { analytics } = await reference.process(
      LINES.map((value, offset) => ({ value, position: { source: 'reference', offset } })),
    );
    expect(summary(await system.storedAssignments())).toEqual(summary(reference.assignments()));
    expect(byId(await system.analytics(analytics.length))).toEqual(byId(analytics));
    const stored = await system.storedAssignments();
    const of = (experiment: string) =>
      stored.filter((a) => a.experiment === `staff_preview.${experiment}`);
    expect(
      of('new_outline')
        .filter((a) => a.reason === 'forced')
        .map((a) => a.userId)
        .sort(),
    ).toEqual([3, 8]);
    expect(
      of('staff_only')
        .map((a) => a.userId)
        .sort((a, b) => a - b),
    ).toEqual([3, 12]);

    const explained = await api.json<{ decision: unknown; learnerAttributes: unknown }>(
      'GET',
      `/experiments/staff_preview.new_outline/explain?user_id=8&course_id=${encodeURIComponent(COURSE)}`,
      { token: TOKENS.reader },
    );
    expect(explained.body.decision).toEqual({ bucketed: true, bucket: 1, reason: 'forced' });
    // Unchanged by the API's load, learner 8's attributes are still those the CLI set.
    expect(explained.body.learnerAttributes).toMatchObject({
      isSuperuser: true,
      source: 'lms_export',
      loadedFrom: 'auth_user.tsv',
    });
    expect((explained.body.learnerAttributes as { loadedBy: string }).loadedBy).toMatch(/^cli:/);
    const staff = await api.json<{ decision: { bucketed: boolean }; learnerAttributes: unknown }>(
      'GET',
      `/experiments/staff_preview.staff_only/explain?user_id=12&course_id=${encodeURIComponent(COURSE)}`,
      { token: TOKENS.reader },
    );
    expect(staff.body.decision.bucketed).toBe(true);
    expect(staff.body.learnerAttributes).toMatchObject({
      isStaff: true,
      isSuperuser: false,
      source: 'lms_export',
      loadedBy: 'alice',
      loadedFrom: 'api',
    });
  });
});
