import { stableBucketReference } from '@assigner/domain';
import { assigner } from '../../support/cli';

describe('assigner bucket', () => {
  it('prints the bucket and nothing else on stdout', () => {
    expect(assigner(['bucket', 'REV-1074', '2', 'edx'])).toMatchObject({
      status: 0,
      stdout: '1\n',
    });
    expect(assigner(['bucket', 'exp.aware.x/y/22', '20', 'audit']).stdout).toBe('14\n');
  });

  it('exits 2 with a reason on bad arguments', () => {
    const run = assigner(['bucket', 'g', 'zero', 'u']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('count must be a whole number of 1 or more (got "zero")');
    expect(assigner(['bucket', 'g']).status).toBe(2);
    expect(assigner(['no-such-command']).status).toBe(2);
  });

  it('adds a bucket to each JSON line from stdin, in order, and flags bad lines', () => {
    const input = [
      '{"group":"experiments.test","count":2,"username":"honor"}',
      '{"group":"exp.unaware","count":100,"username":"_dX3","note":"kept"}',
      '{"group":"g","count":0,"username":"u"}',
      '',
      'not json',
    ].join('\n');
    const run = assigner(['bucket', '--stdin'], input);
    expect(run.status).toBe(1);
    expect(
      run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([
      { group: 'experiments.test', count: 2, username: 'honor', bucket: 0 },
      { group: 'exp.unaware', count: 100, username: '_dX3', note: 'kept', bucket: 33 },
      {
        input: '{"group":"g","count":0,"username":"u"}',
        error: '"count" must be a whole number of 1 or more',
      },
      { input: 'not json', error: 'not JSON' },
    ]);
  });
});

describe('assigner usernames', () => {
  it('prints n usernames with the prefix that land in the bucket', () => {
    const run = assigner([
      'usernames',
      '--group',
      'course_experience.animated_exy',
      '--count',
      '4',
      '--bucket',
      '3',
      '-n',
      '5',
      '--prefix',
      'qa_',
    ]);
    expect(run.status).toBe(0);
    const names = run.stdout.trim().split('\n');
    expect(names).toHaveLength(5);
    for (const name of names) {
      expect(name.startsWith('qa_')).toBe(true);
      expect(stableBucketReference('course_experience.animated_exy', 4, name)).toBe(3);
    }
  });

  it('exits 2 for a bucket outside the count', () => {
    const run = assigner(['usernames', '--group', 'g', '--count', '2', '--bucket', '2']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('bucket must be below count 2');
  });
});
