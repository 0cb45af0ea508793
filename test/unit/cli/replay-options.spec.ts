import { assigner } from '../../support/cli';

// Options are checked before anything is read or connected to: no services needed.
describe('assigner replay options', () => {
  it('lists every problem with exit code 2', () => {
    const run = assigner([
      'replay',
      '--events',
      'history.log',
      '--topic',
      'openedx.tracking-log',
      '--from-time',
      'yesterday',
      '--chunk',
      '0',
      '--no-publish',
      '--dead-letters',
    ]);
    expect(run.status).toBe(2);
    for (const problem of [
      'give --events FILE... or --topic T (one of them)',
      '--from-time yesterday is not an ISO-8601 date or time',
      '--chunk must be a whole number from 1 to 1000000 (got 0)',
      '--dead-letters sends the invalid lines of --events files',
    ])
      expect(run.stderr).toContain(problem);
  });

  it('takes --dead-letters only when publishing from files', () => {
    for (const extra of [['--dry-run'], ['--no-publish']]) {
      const run = assigner(['replay', '--events', 'history.log', '--dead-letters', ...extra]);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('--dead-letters sends the invalid lines of --events files');
    }
  });
});
