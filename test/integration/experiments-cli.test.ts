import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assigner } from '../support/cli';
import { testMongoClient, uniqueName } from '../support/real-services';

jest.setTimeout(60_000);

const MONGO_DB = uniqueName('experiments_cli').replaceAll('-', '_');
const env = { ...process.env, MONGO_DB };
let dir: string;

const definition = (overrides: Record<string, unknown> = {}) => ({
  namespace: 'course_experience',
  name: 'animated_exy',
  experimentId: 7,
  flag: { everyone: true, courses: { 'course-v1:MITx+6.00x+2026': 'off' } },
  keyValues: { enrollment_start: '2026-02-01' },
  ...overrides,
});

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'experiments-cli-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = testMongoClient();
  await client.db(MONGO_DB).dropDatabase();
  await client.close();
});

describe('assigner experiments, on the real store', () => {
  it('creates, leaves identical definitions alone, and counts revisions of changes', () => {
    const first = file('first.json', {
      experiments: [definition(), definition({ namespace: 'experiments', name: 'other' })],
    });
    expect(assigner(['experiments', 'apply', '-f', first], undefined, env)).toMatchObject({
      status: 0,
      stdout:
        'created course_experience.animated_exy (revision 1)\ncreated experiments.other (revision 1)\n',
    });
    expect(assigner(['experiments', 'apply', '-f', first], undefined, env).stdout).toBe(
      'unchanged course_experience.animated_exy (revision 1)\nunchanged experiments.other (revision 1)\n',
    );
    const changed = file('changed.json', {
      experiments: [definition({ bucketFlags: { '1': { users: ['carol'] } } })],
    });
    expect(assigner(['experiments', 'apply', '-f', changed], undefined, env).stdout).toBe(
      'updated course_experience.animated_exy (revision 2)\n',
    );
    const got = JSON.parse(
      assigner(['experiments', 'get', 'course_experience.animated_exy'], undefined, env).stdout,
    ) as Record<string, unknown>;
    expect(got).toMatchObject({
      revision: 2,
      // Course keys with dots survive the store.
      flag: { courses: { 'course-v1:MITx+6.00x+2026': 'off' } },
      bucketFlags: { '1': { users: ['carol'] } },
      numBuckets: 2,
    });
  });

  it('changes nothing when any definition in the file is bad', () => {
    const before = assigner(['experiments', 'list'], undefined, env).stdout;
    const bad = file('bad.json', {
      experiments: [
        definition({ name: 'would_be_new' }),
        definition({ name: 'broken', numBuckets: 0 }),
      ],
    });
    const run = assigner(['experiments', 'apply', '-f', bad], undefined, env);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      'experiments[1].numBuckets: must be a whole number from 1 to 1000',
    );
    expect(assigner(['experiments', 'list'], undefined, env).stdout).toBe(before);
  });

  it('lists definitions as an experiments file that applies back unchanged', () => {
    const listed = assigner(['experiments', 'list'], undefined, env).stdout;
    const names = (
      JSON.parse(listed) as { experiments: { namespace: string; name: string }[] }
    ).experiments.map((e) => `${e.namespace}.${e.name}`);
    expect(names).toEqual(['course_experience.animated_exy', 'experiments.other']);
    const again = assigner(
      ['experiments', 'apply', '-f', file('listed.json', JSON.parse(listed))],
      undefined,
      env,
    );
    expect(again.stdout).not.toMatch(/created|updated/);
  });

  it('exits 1 for an unknown experiment and 2 without store settings', () => {
    expect(assigner(['experiments', 'get', 'no.such'], undefined, env)).toMatchObject({
      status: 1,
    });
    const noStore = assigner(['experiments', 'list'], undefined, { PATH: process.env.PATH });
    expect(noStore.status).toBe(2);
    expect(noStore.stderr).toContain(
      'MONGO_URL must be a mongodb:// or mongodb+srv:// URL (not set)',
    );
  });
});
