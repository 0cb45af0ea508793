import { coursewareViewLine } from '../../workloads/synthetic-log';
/* eslint-disable @typescript-eslint/no-unsafe-assignment -- expect.* asymmetric matchers are typed any */
import type { AssignmentRecord, UserState } from '@assigner/domain';
import {
  emptyUserState,
  assignmentKey,
  parseIsoMicros,
  stableBucketReference,
} from '@assigner/domain';
import { LearnerStateRepository } from '@assigner/persistence';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AdminApiProcess, TOKEN_CONFIG, TOKENS } from '../support/admin-api';
import { ROOT } from '../support/cli';
import { testMongoClient, uniqueName, waitFor } from '../support/real-services';
import { WorkerSystem } from '../support/worker-harness';

jest.setTimeout(120_000);

const DATABASE = uniqueName('admin_api').replaceAll('-', '_');
const api = new AdminApiProcess({ MONGO_DB: DATABASE, ADMIN_API_MAX_BODY_BYTES: '65536' });
const mongo = testMongoClient();

const COURSE = 'course-v1:MITx+6.00x+2026';
const DARK_COURSE = 'course-v1:MITx+Dark+2026';
const ANIMATED = 'course_experience.animated_exy';

const animated = (overrides: Record<string, unknown> = {}) => ({
  namespace: 'course_experience',
  name: 'animated_exy',
  experimentId: 7,
  flag: { everyone: true, courses: { [DARK_COURSE]: 'off' } },
  bucketFlags: { '1': { users: ['forced_fran'] } },
  keyValues: { enrollment_start: '2026-02-01', enrollment_end: '2026-06-01' },
  ...overrides,
});

const micros = (iso: string): number => parseIsoMicros(iso)!;

/** A stored learner: username, enrollments and assignments, written as the worker writes them. */
function learner(
  userId: number,
  username: string | undefined,
  enrollments: [string, string][] = [],
  assignments: Partial<AssignmentRecord>[] = [],
): UserState {
  const state = emptyUserState(userId);
  state.username = username;
  if (username !== undefined) state.usernameSince = micros('2025-01-01T00:00:00Z');
  for (const [courseId, at] of enrollments)
    state.enrollments.set(courseId, { createdAt: micros(at) });
  for (const partial of assignments) {
    const at = partial.firstDecidedAt ?? micros('2026-03-02T10:00:00Z');
    const assignment: AssignmentRecord = {
      experiment: ANIMATED,
      courseId: COURSE,
      userId,
      username: username ?? 'nobody',
      bucket: 0,
      reason: 'hash',
      version: 0,
      firstDecidedAt: at,
      lastDecidedAt: partial.lastDecidedAt ?? at,
      history: [],
      ...partial,
    };
    assignment.history = [
      {
        version: 0,
        bucket: assignment.bucket,
        reason: assignment.reason,
        at,
        site: 'lms.example.com',
        isStaff: false,
      },
    ];
    state.assignments.set(assignmentKey(assignment.experiment, assignment.courseId), assignment);
  }
  return state;
}

async function storeLearners(states: UserState[]): Promise<void> {
  const repository = new LearnerStateRepository(mongo.db(DATABASE));
  const { conflicts, derived } = await repository.save({
    states: new Map(states.map((state) => [state.userId, state])),
    loaded: new Map(),
  });
  await derived;
  expect(conflicts).toEqual([]);
}

const editor = { token: TOKENS.editor };
const reader = { token: TOKENS.reader };

async function put(name: string, body: unknown, headers: Record<string, string> = {}) {
  return api.json('PUT', `/experiments/${name}`, { ...editor, body, headers });
}

const problemsOf = (body: unknown): string[] => (body as { problems?: string[] }).problems ?? [];

beforeAll(async () => {
  await api.start();
  for (const definition of [
    animated(),
    {
      namespace: 'experiments',
      name: 'global_banner',
      scope: 'global',
      numBuckets: 3,
      flag: { everyone: true },
    },
    {
      namespace: 'experiments',
      name: 'bad_dates',
      experimentId: 9,
      flag: { everyone: true },
      keyValues: { enrollment_start: 'soon' },
    },
  ]) {
    const created = await put(`${definition.namespace}.${definition.name}`, definition);
    expect(created.status).toBe(201);
  }
  await storeLearners([
    learner(
      101,
      'alice',
      [[COURSE, '2026-03-01T09:00:00Z']],
      [
        { bucket: stableBucketReference(`${ANIMATED}.${COURSE}`, 2, 'alice') },
        { experiment: 'experiments.global_banner', courseId: null, bucket: 2 },
      ],
    ),
    learner(102, 'bob', [[COURSE, '2026-01-15T00:00:00Z']]),
    learner(103, 'dora', [[COURSE, '2026-07-01T00:00:00Z']]),
    learner(
      104,
      'forced_fran',
      [[COURSE, '2026-03-01T00:00:00Z']],
      [{ bucket: 1, reason: 'forced' }],
    ),
    learner(105, 'eve'),
  ]);
});

afterAll(async () => {
  await api.stop();
  await mongo.close();
});

describe('the admin API, as a process over the real store', () => {
  it('refuses to start without valid tokens, naming the setting and never echoing a secret', () => {
    const run = (tokens: string) =>
      spawnSync(process.execPath, [join(ROOT, 'dist', 'apps', 'admin-api', 'src', 'main.js')], {
        env: { ...process.env, MONGO_DB: DATABASE, ADMIN_API_TOKENS: tokens, ADMIN_API_PORT: '0' },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const unset = run('');
    expect(unset.status).toBe(78);
    expect(unset.stderr).toContain('ADMIN_API_TOKENS must list at least one token');
    const bad = run('ops:owner:short-secret,ops:reader:a-long-enough-secret-1');
    expect(bad.status).toBe(78);
    expect(bad.stderr).toContain(
      'entry 1 (ops): role must be reader or editor, secret must be 16-512',
    );
    expect(bad.stderr).toContain('entry 2 (ops): name is used twice');
    expect(bad.stderr).not.toContain('short-secret');
    expect(bad.stderr).not.toContain('a-long-enough-secret-1');
  });

  describe('tokens and roles', () => {
    const reads = [
      '/experiments',
      `/experiments/${ANIMATED}`,
      `/experiments/${ANIMATED}/history`,
      '/assignments?user_id=101',
      `/experiments/${ANIMATED}/assignments?user_id=101`,
      `/experiments/${ANIMATED}/explain?user_id=101&course_id=${encodeURIComponent(COURSE)}`,
      `/experiments/${ANIMATED}/stats`,
    ];
    const writes: [string, string][] = [
      ['PUT', `/experiments/${ANIMATED}`],
      ['PATCH', `/experiments/${ANIMATED}`],
      ['POST', `/experiments/${ANIMATED}/archive`],
      ['POST', `/experiments/${ANIMATED}/restore`],
    ];

    it.each(reads)(
      'GET %s: 401 without a token or with an unknown one, 200 for readers and editors',
      async (path) => {
        const missing = await api.request('GET', path);
        expect(missing.status).toBe(401);
        expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="experiment-assigner"');
        expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const unknown = await api.request('GET', path, { token: 'not-a-token-of-this-api' });
        expect(unknown.status).toBe(401);
        expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"');
        expect((await api.request('GET', path, reader)).status).toBe(200);
        expect((await api.request('GET', path, editor)).status).toBe(200);
      },
    );

    it.each(writes)(
      '%s %s: 401 without a token, 403 for a reader, and nothing changes',
      async (method, path) => {
        const before = await api.json('GET', `/experiments/${ANIMATED}`, reader);
        const body = { keyValues: { note: 'x' } };
        expect((await api.request(method, path, { body })).status).toBe(401);
        const forbidden = await api.json(method, path, { ...reader, body });
        expect(forbidden.status).toBe(403);
        expect(forbidden.body).toMatchObject({
          status: 403,
          detail: expect.stringContaining('carol is a reader'),
        });
        const after = await api.json('GET', `/experiments/${ANIMATED}`, reader);
        expect(after.body.revision).toBe(before.body.revision);
      },
    );

    it('serves /health without a token', async () => {
      expect((await api.request('GET', '/health')).status).toBe(200);
    });
  });

  describe('experiments', () => {
    const name = 'experiments.lifecycle';
    const definition = { namespace: 'experiments', name: 'lifecycle', flag: { everyone: true } };

    it('creates, reads with an ETag, and leaves an identical replacement alone', async () => {
      const created = await put(name, definition);
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('"1"');
      expect(created.headers.get('location')).toBe(`/experiments/${name}`);
      expect(created.body).toMatchObject({
        outcome: 'created',
        revision: 1,
        updatedBy: 'alice',
        archived: false,
      });
      const got = await api.json('GET', `/experiments/${name}`, reader);
      expect(got.headers.get('etag')).toBe('"1"');
      expect(got.body).toMatchObject({
        name,
        revision: 1,
        definition: { numBuckets: 2, flag: { everyone: true } },
      });
      const same = await put(name, got.body.definition, { 'If-Match': '"1"' });
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ outcome: 'unchanged', revision: 1 });
    });

    it('needs If-Match to replace (428), refuses a stale one (412) and takes the current one', async () => {
      const changed = { ...definition, numBuckets: 4 };
      const unconditional = await put(name, changed);
      expect(unconditional.status).toBe(428);
      expect(unconditional.body).toMatchObject({ currentRevision: 1 });
      expect((await put(name, changed, { 'If-Match': '"7"' })).status).toBe(412);
      expect((await put(name, changed, { 'If-None-Match': '*' })).status).toBe(412);
      const replaced = await put(name, changed, { 'If-Match': '"1"' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({
        outcome: 'updated',
        revision: 2,
        definition: { numBuckets: 4 },
      });
      expect(replaced.headers.get('etag')).toBe('"2"');
    });

    it('patches overrides, bucket flags and key-values with a merge patch, and removes with null', async () => {
      const patch = (body: unknown, etag: string) =>
        api.json('PATCH', `/experiments/${name}`, {
          ...editor,
          body,
          contentType: 'application/merge-patch+json',
          headers: { 'If-Match': etag },
        });
      const first = await patch(
        {
          flag: { courses: { [COURSE]: 'off' }, orgs: { HarvardX: 'on' } },
          bucketFlags: { '3': { users: ['zed'] } },
          keyValues: { enrollment_start: '2026-02-01', enrollment_end: '2026-09-01' },
        },
        '"2"',
      );
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        revision: 3,
        definition: {
          numBuckets: 4,
          flag: { everyone: true, courses: { [COURSE]: 'off' }, orgs: { HarvardX: 'on' } },
          bucketFlags: { '3': { users: ['zed'] } },
          keyValues: { enrollment_start: '2026-02-01', enrollment_end: '2026-09-01' },
        },
      });
      const second = await patch(
        { flag: { courses: { [COURSE]: null } }, keyValues: { enrollment_end: null } },
        '"3"',
      );
      expect(second.status).toBe(200);
      expect(second.body.definition).toMatchObject({
        flag: { courses: {} },
        keyValues: { enrollment_start: '2026-02-01' },
      });
      expect(second.body.definition).not.toHaveProperty('keyValues.enrollment_end');

      expect(
        (await api.json('PATCH', `/experiments/${name}`, { ...editor, body: { numBuckets: 3 } }))
          .status,
      ).toBe(428);
      expect((await patch({ numBuckets: 3 }, '"3"')).status).toBe(412);
      const invalid = await patch({ name: 'renamed', numBuckets: 3 }, '"4"');
      expect(invalid.status).toBe(400);
      expect(problemsOf(invalid.body)).toEqual([
        'patched definition.bucketFlags.3: bucket 3 is outside numBuckets 3',
      ]);
      const renamed = await patch({ name: 'renamed' }, '"4"');
      expect(renamed.status).toBe(400);
      expect(problemsOf(renamed.body)[0]).toContain('not experiments.lifecycle as in the path');
    });

    it('archives (workers stop deciding it, lists hide it) and restores', async () => {
      const archived = await api.json('POST', `/experiments/${name}/archive`, editor);
      expect(archived.status).toBe(200);
      expect(archived.body).toMatchObject({ outcome: 'archived', archived: true, revision: 5 });
      const listed = await api.json<{ experiments: { name: string }[] }>(
        'GET',
        '/experiments',
        reader,
      );
      expect(listed.body.experiments.map((e) => e.name)).not.toContain(name);
      const all = await api.json<{ experiments: { name: string; archived: boolean }[] }>(
        'GET',
        '/experiments?include_archived=true',
        reader,
      );
      expect(all.body.experiments.find((e) => e.name === name)).toMatchObject({ archived: true });
      expect(
        (
          await api.json('POST', `/experiments/${name}/restore`, {
            ...editor,
            headers: { 'If-Match': '"4"' },
          })
        ).status,
      ).toBe(412);
      const restored = await api.json('POST', `/experiments/${name}/restore`, {
        ...editor,
        headers: { 'If-Match': '"5"' },
      });
      expect(restored.body).toMatchObject({ outcome: 'restored', archived: false, revision: 6 });
      expect(
        (await api.request('POST', '/experiments/experiments.nothing/archive', editor)).status,
      ).toBe(404);
    });

    it('keeps an audit trail of every change: who, when, before and after', async () => {
      const history = await api.json<{ history: Record<string, unknown>[] }>(
        'GET',
        `/experiments/${name}/history`,
        reader,
      );
      expect(history.status).toBe(200);
      expect(
        history.body.history.map((entry) => [entry.revision, entry.action, entry.actor]),
      ).toEqual([
        [1, 'created', 'alice'],
        [2, 'updated', 'alice'],
        [3, 'updated', 'alice'],
        [4, 'updated', 'alice'],
        [5, 'archived', 'alice'],
        [6, 'restored', 'alice'],
      ]);
      expect(history.body.history[0]).toMatchObject({
        before: null,
        after: { archived: false, definition: { numBuckets: 2 } },
      });
      expect(history.body.history[1]).toMatchObject({
        before: { definition: { numBuckets: 2 } },
        after: { definition: { numBuckets: 4 } },
      });
      for (const entry of history.body.history)
        expect(Date.parse(String(entry.at))).toBeGreaterThan(Date.now() - 600_000);
      expect(
        (await api.request('GET', '/experiments/experiments.nothing/history', reader)).status,
      ).toBe(404);
    });

    it('lets exactly one of two concurrent writers of the same revision win; the other gets 412', async () => {
      const racer = 'experiments.race';
      expect((await put(racer, { namespace: 'experiments', name: 'race' })).status).toBe(201);
      for (let round = 1; round <= 5; round++) {
        const etag = `"${round}"`;
        const write = (token: string, who: string) =>
          api.json('PATCH', `/experiments/${racer}`, {
            token,
            body: { keyValues: { last_writer: `${who}-${round}` } },
            headers: { 'If-Match': etag },
          });
        const results = await Promise.all([
          write(TOKENS.editor, 'alice'),
          write(TOKENS.otherEditor, 'bob'),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
        const winner = results.find((r) => r.status === 200)!;
        const loser = results.find((r) => r.status === 412)!;
        expect(loser.body).toMatchObject({ currentRevision: round + 1 });
        const stored = await api.json('GET', `/experiments/${racer}`, reader);
        expect(stored.body.definition).toEqual(winner.body.definition);
      }
      const history = await api.json<{ history: { revision: number }[] }>(
        'GET',
        `/experiments/${racer}/history`,
        reader,
      );
      expect(history.body.history.map((entry) => entry.revision)).toEqual([1, 2, 3, 4, 5, 6]);

      const creations = await Promise.all(
        [TOKENS.editor, TOKENS.otherEditor].map((token) =>
          api.json('PUT', '/experiments/experiments.race_create', {
            token,
            body: { namespace: 'experiments', name: 'race_create' },
            headers: { 'If-None-Match': '*' },
          }),
        ),
      );
      expect(creations.map((r) => r.status).sort()).toEqual([201, 412]);
    });
  });

  describe('bad requests', () => {
    it('lists every problem of a definition, unknown fields included', async () => {
      const response = await put('experiments.bad', {
        namespace: 'experiments',
        name: 'bad',
        numBuckets: 0,
        colour: 'blue',
        flag: { percent: 120, courses: { [COURSE]: 'maybe' } },
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(problemsOf(response.body).sort()).toEqual([
        'body.colour: is not a known field',
        'body.flag.courses.course-v1:MITx+6.00x+2026: must be "on" or "off"',
        'body.flag.percent: must be a number from 0 to 100 or null',
        'body.numBuckets: must be a whole number from 1 to 1000',
      ]);
    });

    it('never lets a request value become a MongoDB operator', async () => {
      const operator = encodeURIComponent('{"$gt": ""}');
      const asName = await api.json('GET', `/experiments/${operator}`, reader);
      expect(asName.status).toBe(400);
      expect(problemsOf(asName.body)[0]).toContain('is not an experiment name');
      for (const query of [
        `user_id=${operator}`,
        `username=${operator}`,
        'user_id[$gt]=',
        'user_id=1&user_id=2',
      ]) {
        const response = await api.json('GET', `/assignments?${query}`, reader);
        expect(response.status).toBe(400);
      }
      const inBody = await put(
        ANIMATED,
        { ...animated(), name: { $gt: '' } },
        { 'If-Match': '"1"' },
      );
      expect(inBody.status).toBe(400);
      expect(problemsOf(inBody.body)).toContain('body.name: must be a string');
    });

    it('lists every problem of a query, unknown parameters included', async () => {
      const response = await api.json(
        'GET',
        `/experiments/${ANIMATED}/explain?user_id=abc&at=yesterday&is_staff=maybe&colour=blue`,
        reader,
      );
      expect(response.status).toBe(400);
      expect(problemsOf(response.body).sort()).toEqual([
        'query at: must be an ISO-8601 time such as 2026-03-01T12:00:00Z',
        'query colour: is not a known field',
        'query is_staff: must be true or false',
        'query user_id: must be a user id (a whole number from 1)',
      ]);
      const neither = await api.json('GET', '/assignments', reader);
      expect(problemsOf(neither.body)).toEqual(['query: give exactly one of user_id and username']);
    });

    it('answers 413 to a body over the limit, 400 to broken JSON, 415 to other media types', async () => {
      const big = await api.json('PUT', `/experiments/${ANIMATED}`, {
        ...editor,
        rawBody: JSON.stringify({ ...animated(), keyValues: { blob: 'x'.repeat(70_000) } }),
      });
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ status: 413, title: 'Content Too Large' });
      const broken = await api.json('PUT', `/experiments/${ANIMATED}`, {
        ...editor,
        rawBody: '{"namespace": ',
      });
      expect(broken.status).toBe(400);
      expect(broken.body.detail).toContain('not valid JSON');
      const text = await api.json('PUT', `/experiments/${ANIMATED}`, {
        ...editor,
        rawBody: 'namespace=x',
        contentType: 'text/plain',
      });
      expect(text.status).toBe(415);
      expect((await api.json('GET', '/no/such/route', reader)).status).toBe(404);
    });
  });

  describe('assignment lookups', () => {
    it("finds all of a learner's assignments by user id or username, with message ids", async () => {
      const byId = await api.json<{ assignments: Record<string, unknown>[] }>(
        'GET',
        '/assignments?user_id=101',
        reader,
      );
      expect(byId.body.assignments).toHaveLength(2);
      expect(byId.body.assignments.map((a) => [a.experiment, a.courseId])).toEqual([
        [ANIMATED, COURSE],
        ['experiments.global_banner', null],
      ]);
      expect(byId.body.assignments[0]).toMatchObject({
        userId: 101,
        username: 'alice',
        firstDecidedAt: '2026-03-02T10:00:00.000Z',
        history: [{ version: 0, messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) }],
      });
      const byName = await api.json('GET', '/assignments?username=alice', reader);
      expect(byName.body).toEqual(byId.body);
      expect((await api.json('GET', '/assignments?user_id=999', reader)).body).toEqual({
        assignments: [],
      });
    });

    it('narrows to one experiment and course', async () => {
      const path = `/experiments/${ANIMATED}/assignments?username=alice`;
      expect(
        (await api.json<{ assignments: unknown[] }>('GET', path, reader)).body.assignments,
      ).toHaveLength(1);
      const other = await api.json<{ assignments: unknown[] }>(
        'GET',
        `${path}&course_id=course-v1:MITx+Other+2026`,
        reader,
      );
      expect(other.body.assignments).toEqual([]);
      expect(
        (await api.request('GET', '/experiments/experiments.nothing/assignments?user_id=1', reader))
          .status,
      ).toBe(404);
    });
  });

  describe('explain', () => {
    const explain = (query: string, experiment = ANIMATED) =>
      api.json<
        { decision: Record<string, unknown>; steps: Record<string, unknown>[] } & Record<
          string,
          unknown
        >
      >('GET', `/experiments/${experiment}/explain?${query}`, reader);
    const course = `course_id=${encodeURIComponent(COURSE)}`;

    it('hash: the bucket of the course-aware hash group, which the stored assignment matches', async () => {
      const { status, body } = await explain(`user_id=101&${course}&at=2026-03-05T00:00:00Z`);
      expect(status).toBe(200);
      const bucket = stableBucketReference(`${ANIMATED}.${COURSE}`, 2, 'alice');
      expect(body.decision).toEqual({ bucketed: true, bucket, reason: 'hash' });
      expect(body).toMatchObject({
        username: 'alice',
        enrolledAt: '2026-03-01T09:00:00.000Z',
        stored: { bucket },
      });
      expect(body.steps).toEqual([
        { check: 'learner', result: 'known', username: 'alice' },
        {
          check: 'main_flag',
          flag: ANIMATED,
          defined: true,
          on: true,
          decidedBy: 'everyone',
          rules: [
            { rule: 'course_override', result: 'not_set' },
            { rule: 'org_override', result: 'not_set' },
            { rule: 'everyone', result: 'on' },
          ],
        },
        {
          check: 'enrollment_window',
          verdict: 'inside',
          enrollmentStart: '2026-02-01',
          enrollmentEnd: '2026-06-01',
          enrolledAt: '2026-03-01T09:00:00.000Z',
          usedDecisionTime: false,
        },
        {
          check: 'bucket_flag',
          bucket: 1,
          flag: `${ANIMATED}.1`,
          defined: true,
          on: false,
          decidedBy: 'no_rule_matched',
          rules: expect.arrayContaining([{ rule: 'users', result: 'no_match' }]),
        },
        { check: 'hash', group: `${ANIMATED}.${COURSE}`, numBuckets: 2, bucket },
      ]);
    });

    it('forced: a bucket flag naming the learner', async () => {
      const { body } = await explain(`user_id=104&${course}`);
      expect(body.decision).toEqual({ bucketed: true, bucket: 1, reason: 'forced' });
      expect(body.steps.at(-1)).toMatchObject({
        check: 'bucket_flag',
        bucket: 1,
        on: true,
        decidedBy: 'users',
      });
    });

    it('flag_off: a course override turning the flag off', async () => {
      const { body } = await explain(`user_id=101&course_id=${encodeURIComponent(DARK_COURSE)}`);
      expect(body.decision).toEqual({ bucketed: false, reason: 'flag_off' });
      expect(body.steps.at(-1)).toMatchObject({
        check: 'main_flag',
        on: false,
        decidedBy: 'course_override',
        rules: [{ rule: 'course_override', result: 'off' }],
      });
    });

    it.each([
      ['before_window', 102, 'enrollment_start', '2026-01-15T00:00:00.000Z'],
      ['after_window', 103, 'enrollment_end', '2026-07-01T00:00:00.000Z'],
    ])(
      '%s: the stored enrollment time against the window',
      async (reason, userId, bound, enrolledAt) => {
        const { body } = await explain(`user_id=${userId}&${course}`);
        expect(body.decision).toEqual({ bucketed: false, reason });
        expect(body.steps.at(-1)).toEqual({
          check: 'enrollment_window',
          verdict: reason,
          bound,
          enrollmentStart: '2026-02-01',
          enrollmentEnd: '2026-06-01',
          enrolledAt,
          usedDecisionTime: false,
        });
      },
    );

    it('without an enrollment the decision time stands in for it, as in edx-platform', async () => {
      const inside = await explain(`user_id=105&${course}&at=2026-03-05T00:00:00Z`);
      expect(inside.body.decision).toMatchObject({ bucketed: true, reason: 'hash' });
      expect(inside.body.steps[2]).toMatchObject({
        usedDecisionTime: true,
        enrolledAt: '2026-03-05T00:00:00.000Z',
      });
      const before = await explain(`user_id=105&${course}&at=2025-12-31T23:59:59Z`);
      expect(before.body.decision).toEqual({ bucketed: false, reason: 'before_window' });
    });

    it('bad_window_date: a bound that does not parse', async () => {
      const { body } = await explain(`user_id=101&${course}`, 'experiments.bad_dates');
      expect(body.decision).toEqual({ bucketed: false, reason: 'bad_window_date' });
      expect(body.steps.at(-1)).toMatchObject({
        check: 'enrollment_window',
        verdict: 'bad_window_date',
        bound: 'enrollment_start',
      });
    });

    it('no_username: a learner the store has never seen', async () => {
      const { body } = await explain(`user_id=999&${course}`);
      expect(body).toMatchObject({ learnerKnown: false, username: null, stored: null });
      expect(body.decision).toEqual({ bucketed: false, reason: 'no_username' });
      expect(body.steps).toEqual([{ check: 'learner', result: 'no_username' }]);
    });

    it('decides global experiments without a course and needs one for course-scoped ones', async () => {
      const global = await explain(`user_id=101&${course}`, 'experiments.global_banner');
      expect(global.body).toMatchObject({
        courseId: null,
        decision: { bucket: stableBucketReference('experiments.global_banner', 3, 'alice') },
      });
      expect(global.body.steps).toContainEqual({
        check: 'enrollment_window',
        verdict: 'not_applicable',
        skipped: 'no_course',
        enrollmentStart: null,
        enrollmentEnd: null,
      });
      const noCourse = await explain('user_id=101');
      expect(noCourse.status).toBe(400);
      expect(problemsOf(noCourse.body)).toEqual([
        `query course_id: ${ANIMATED} is decided per course, so explain needs one`,
      ]);
      expect((await explain('user_id=101', 'experiments.nothing')).status).toBe(404);
    });
  });

  interface StatsBody {
    countedAt: string;
    sampleRatio: { pValue: number };
    courses: { courseId: string | null; buckets: number[] }[];
  }

  describe('stats', () => {
    const SKEWED = 'experiments.skewed';
    const BALANCED = 'experiments.balanced';
    const countsLearners = (
      experiment: string,
      firstUserId: number,
      plan: {
        courseId: string | null;
        bucket: number;
        reason?: 'hash' | 'forced';
        count: number;
      }[],
    ) => {
      let userId = firstUserId;
      return plan.flatMap(({ courseId, bucket, reason = 'hash', count }) =>
        Array.from({ length: count }, () => {
          userId += 1;
          const at = micros('2026-03-01T00:00:00Z') + (userId - firstUserId) * 1_000_000;
          return learner(
            userId,
            `stats${userId}`,
            [],
            [
              {
                experiment,
                courseId,
                bucket,
                reason,
                firstDecidedAt: at,
                lastDecidedAt: at + 60_000_000,
              },
            ],
          );
        }),
      );
    };

    beforeAll(async () => {
      expect((await put(SKEWED, { namespace: 'experiments', name: 'skewed' })).status).toBe(201);
      expect(
        (
          await put(BALANCED, {
            namespace: 'experiments',
            name: 'balanced',
            scope: 'global',
            numBuckets: 3,
          })
        ).status,
      ).toBe(201);
      const A = 'course-v1:X+A+1';
      const B = 'course-v1:X+B+1';
      await storeLearners(
        countsLearners(SKEWED, 10_000, [
          { courseId: A, bucket: 0, count: 280 },
          { courseId: A, bucket: 1, count: 220 },
          { courseId: B, bucket: 0, count: 280 },
          { courseId: B, bucket: 1, count: 220 },
          // Forced assignments are not part of the split: without them counts are 560/440.
          { courseId: B, bucket: 1, reason: 'forced', count: 25 },
        ]),
      );
      await storeLearners(
        countsLearners(BALANCED, 20_000, [
          { courseId: null, bucket: 0, count: 340 },
          { courseId: null, bucket: 1, count: 330 },
          { courseId: null, bucket: 2, count: 330 },
        ]),
      );
    }, 120_000);

    it('flags a skewed split, with the p-value of a chi-square reference to 1e-6', async () => {
      const { status, body } = await api.json<StatsBody>(
        'GET',
        `/experiments/${SKEWED}/stats`,
        reader,
      );
      expect(status).toBe(200);
      expect(body).toMatchObject({
        experiment: SKEWED,
        numBuckets: 2,
        total: 1025,
        buckets: [560, 465],
        forced: [0, 25],
        firstAssignedAt: '2026-03-01T00:00:01.000Z',
        lastAssignedAt: '2026-03-01T00:18:05.000Z',
      });
      expect(body.sampleRatio).toMatchObject({
        chiSquare: expect.closeTo(14.4, 9),
        degreesOfFreedom: 1,
        mismatch: true,
      });
      // erfc(sqrt(14.4 / 2)), the upper tail of chi-square with 1 degree of freedom (Python math.erfc).
      expect(Math.abs(body.sampleRatio.pValue - 0.00014780231033445412)).toBeLessThan(1e-6);
      expect(body.courses.map((c) => [c.courseId, c.buckets])).toEqual([
        ['course-v1:X+A+1', [280, 220]],
        ['course-v1:X+B+1', [280, 245]],
      ]);
    });

    it('does not flag a balanced split', async () => {
      const { body } = await api.json<StatsBody>('GET', `/experiments/${BALANCED}/stats`, reader);
      expect(body).toMatchObject({
        total: 1000,
        buckets: [340, 330, 330],
        courses: [{ courseId: null, total: 1000 }],
      });
      expect(body.sampleRatio).toMatchObject({
        chiSquare: expect.closeTo(0.2, 9),
        degreesOfFreedom: 2,
        mismatch: false,
      });
      // exp(-0.2 / 2): the chi-square upper tail with 2 degrees of freedom in closed form.
      expect(Math.abs(body.sampleRatio.pValue - 0.9048374180359595)).toBeLessThan(1e-6);
    });

    it('counts again for each request while counting is quick, and says as of when', async () => {
      const before = await api.json<StatsBody>('GET', `/experiments/${BALANCED}/stats`, reader);
      await storeLearners(
        countsLearners(BALANCED, 30_000, [{ courseId: null, bucket: 2, count: 3 }]),
      );
      const after = await api.json<StatsBody>('GET', `/experiments/${BALANCED}/stats`, reader);
      expect(after.body).toMatchObject({
        total: 1003,
        buckets: [340, 330, 333],
        recounting: false,
      });
      expect(Date.parse(after.body.countedAt)).toBeGreaterThan(Date.parse(before.body.countedAt));
    });
  });

  describe('OpenAPI', () => {
    it('serves the document at /docs, covering every route the app mapped', async () => {
      const page = await api.request('GET', '/docs');
      expect(page.status).toBe(200);
      expect(String(page.body)).toContain('swagger');
      const document = await api.json<{ paths: Record<string, Record<string, unknown>> }>(
        'GET',
        '/docs/openapi.json',
      );
      const documented = Object.entries(document.body.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      );
      // Nest logs each route it maps at start: "Mapped {/experiments/:name, GET} route".
      const mapped = [...api.log.matchAll(/Mapped \{([^,]+), (\w+)\} route/g)].map(
        ([, path, method]) => `${method} ${path!.replace(/:(\w+)/g, '{$1}')}`,
      );
      expect(mapped.length).toBeGreaterThanOrEqual(12);
      expect(documented.sort()).toEqual(mapped.sort());
    });
  });

  it('never writes a token secret to its log', () => {
    expect(api.log.length).toBeGreaterThan(0);
    for (const secret of Object.values(TOKENS)) expect(api.log).not.toContain(secret);
    expect(TOKEN_CONFIG).toContain(TOKENS.editor);
  });
});

describe('the admin API with a worker', () => {
  const system = new WorkerSystem(2);
  const admin = new AdminApiProcess({ MONGO_DB: system.database });
  const pageView = (userId: number, time: string) => coursewareViewLine(userId, COURSE, time);
  const assignedUsers = async () =>
    (await system.storedAssignments())
      .filter((a) => a.experiment === 'experiments.live')
      .map((a) => a.userId)
      .sort();

  beforeAll(async () => {
    await system.setUp({ experiments: [] });
    await admin.start();
    await system.startWorker();
  });
  afterAll(async () => {
    await admin.stop();
    await system.tearDown();
  });

  it('workers follow creations and archives made through the API within seconds', async () => {
    const created = await admin.json('PUT', '/experiments/experiments.live', {
      token: TOKENS.editor,
      body: { namespace: 'experiments', name: 'live', scope: 'global', flag: { everyone: true } },
    });
    expect(created.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await system.produce([pageView(1, '2026-03-01T10:00:00Z')], true);
    await waitFor('learner 1 assigned', async () => (await assignedUsers()).includes(1), 30_000);

    const archived = await admin.json('POST', '/experiments/experiments.live/archive', {
      token: TOKENS.editor,
    });
    expect(archived.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await system.produce([pageView(2, '2026-03-01T10:01:00Z')], true);
    await waitFor('the page view consumed', () => system.consumedEverything(), 30_000);
    expect(await assignedUsers()).toEqual([1]);

    await admin.json('POST', '/experiments/experiments.live/restore', { token: TOKENS.editor });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await system.produce([pageView(3, '2026-03-01T10:02:00Z')], true);
    await waitFor('learner 3 assigned', async () => (await assignedUsers()).includes(3), 30_000);
    expect(await assignedUsers()).toEqual([1, 3]);
  });
});
