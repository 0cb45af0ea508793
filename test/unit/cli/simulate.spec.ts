import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { assigner, fixture } from '../../support/cli';

const EVENTS = fixture('simulate', 'events.log');
const EXPERIMENTS = fixture('simulate', 'experiments.json');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'simulate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function simulate(events: string, name = 'run', input?: string) {
  const out = (kind: string) => join(dir, `${name}.${kind}.jsonl`);
  const run = assigner(
    [
      'simulate',
      '--events',
      events,
      '--experiments',
      EXPERIMENTS,
      '--assignments-out',
      out('assignments'),
      '--analytics-out',
      out('analytics'),
      '--dlq-out',
      out('dlq'),
    ],
    input,
  );
  const read = (kind: string) => readFileSync(out(kind), 'utf8');
  const lines = (kind: string) =>
    read(kind)
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { run, read, lines };
}

describe('assigner simulate', () => {
  it('assigns each learner as worked out by hand, one rule path per learner', () => {
    const { run, lines } = simulate(EVENTS);
    expect(run.status).toBe(0);
    // Buckets from an independent Python run of edx-platform's hash over the group names below.
    expect(lines('assignments')).toEqual([
      // grace: not enrolled, event time inside the window; hashed on "...animated_exy.course-v1:MITx+6.00x+2026".
      {
        experiment: 'course_experience.animated_exy',
        course_id: 'course-v1:MITx+6.00x+2026',
        user_id: 16,
        username: 'grace',
        bucket: 1,
        reason: 'hash',
      },
      // alice: enrolled inside the window; her later page view and deactivation change nothing.
      {
        experiment: 'course_experience.animated_exy',
        course_id: 'course-v1:edX+DemoX+2026',
        user_id: 10,
        username: 'alice',
        bucket: 0,
        reason: 'hash',
      },
      // bob: enrolled by a management command (no username); bucketed at his first page view, in
      // July, because his enrollment (March) is inside the window even though "now" is not.
      {
        experiment: 'course_experience.animated_exy',
        course_id: 'course-v1:edX+DemoX+2026',
        user_id: 11,
        username: 'bob',
        bucket: 0,
        reason: 'hash',
      },
      // carol: forced into bucket 1 by the bucket flag's users list.
      {
        experiment: 'course_experience.animated_exy',
        course_id: 'course-v1:edX+DemoX+2026',
        user_id: 14,
        username: 'carol',
        bucket: 1,
        reason: 'forced',
      },
      // heidi: enrolled through the enrollment API, whose event carries her username.
      {
        experiment: 'course_experience.animated_exy',
        course_id: 'course-v1:edX+DemoX+2026',
        user_id: 18,
        username: 'heidi',
        bucket: 0,
        reason: 'hash',
      },
      // grace again: the MITx org override turns mitx_only on; course-unaware, so hashed on "experiments.mitx_only".
      {
        experiment: 'experiments.mitx_only',
        course_id: 'course-v1:MITx+6.00x+2026',
        user_id: 16,
        username: 'grace',
        bucket: 2,
        reason: 'hash',
      },
    ]);
    // Not assigned: dave (not enrolled, July is after the window), erin (enrolled before it),
    // frank (course override off), the anonymous visitor, staffer (masquerading), and everyone
    // in broken_window (its start date does not parse).
    expect(run.stderr).toContain('lines 17: 5 enrollments, 8 page views, 1 ignored, 3 invalid');
    expect(run.stderr).toContain('assignments 6, analytics messages 6');
    expect(run.stderr).toContain('course_experience.animated_exy: bucket 0: 3, bucket 1: 2');
    expect(run.stderr).toContain('experiments.broken_window: nobody assigned');
    expect(run.stderr).toContain('warning: experiments[2].keyValues.enrollment_start');
    expect(run.stdout).toBe('');
  });

  it('writes the analytics messages in emission order, in the Segment track shape', () => {
    const { lines } = simulate(EVENTS);
    const messages = lines('analytics');
    expect(
      messages.map((m) => [m.userId, (m.properties as { experiment: string }).experiment]),
    ).toEqual([
      [10, 'animated_exy'],
      [11, 'animated_exy'],
      [14, 'animated_exy'],
      [16, 'animated_exy'],
      [16, 'mitx_only'],
      [18, 'animated_exy'],
    ]);
    expect(messages[2]).toEqual({
      type: 'track',
      event: 'edx.bi.experiment.user.bucketed',
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      userId: 14,
      timestamp: '2026-03-05T12:00:00.123Z',
      properties: {
        site: 'lms.example.com',
        app_label: 'course_experience',
        experiment: 'animated_exy',
        course_id: 'course-v1:edX+DemoX+2026',
        bucket: 1,
        is_staff: false,
        nonInteraction: 1,
      },
    });
    const ids = messages.map((m) => m.messageId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(100);
  });

  it('writes each invalid line to the DLQ output with its line number and reason', () => {
    const { lines } = simulate(EVENTS);
    expect(lines('dlq').map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 11, reason: 'not JSON' },
      { line: 12, reason: 'context.user_id must be a positive integer (got "abc")' },
      { line: 14, reason: 'time is missing' },
    ]);
    expect(lines('dlq')[0]?.raw).toBe('this is not json');
  });

  it('gives byte-identical outputs on every run, from a plain file, a gzip file or stdin', () => {
    const first = simulate(EVENTS, 'first');
    const second = simulate(EVENTS, 'second');
    const gzPath = join(dir, 'events.log.gz');
    writeFileSync(gzPath, gzipSync(readFileSync(EVENTS)));
    const gz = simulate(gzPath, 'gz');
    const stdin = simulate('-', 'stdin', readFileSync(EVENTS, 'utf8'));
    for (const kind of ['assignments', 'analytics', 'dlq']) {
      expect(second.read(kind)).toBe(first.read(kind));
      expect(gz.read(kind)).toBe(first.read(kind));
      expect(stdin.read(kind)).toBe(first.read(kind));
    }
  });

  it('survives malformed input of every kind, counting each line and sending it to the DLQ', () => {
    const good = readFileSync(EVENTS, 'utf8').split('\n')[0]!;
    const malformed = [
      good.slice(0, 40),
      '{"event_type": "edx.course.enrollment.activated", "time": 5}',
      `{"junk": "${'x'.repeat(3_000_000)}`,
      '\u0000\u0001binary\uFFFD',
      '[]',
      'null',
      good,
    ];
    const path = join(dir, 'malformed.log');
    writeFileSync(path, `${malformed.join('\n')}\n`);
    const { run, lines } = simulate(path, 'malformed');
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('lines 7: 1 enrollments, 0 page views, 0 ignored, 6 invalid');
    expect(lines('dlq')).toHaveLength(6);
    expect(lines('assignments')).toHaveLength(1);
  });

  it('exits 2 listing every problem of a bad experiments file, and writes nothing', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        experiments: [
          { namespace: 'ns', name: 'x', numBuckets: 3, bucketFlags: { '5': {} } },
          { name: 'y' },
        ],
      }),
    );
    const out = join(dir, 'never.jsonl');
    const run = assigner([
      'simulate',
      '--events',
      EVENTS,
      '--experiments',
      bad,
      '--assignments-out',
      out,
      '--analytics-out',
      out,
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('experiments[0].bucketFlags.5: bucket 5 is outside numBuckets 3');
    expect(run.stderr).toContain('experiments[1].namespace: must be a string');
    expect(() => readFileSync(out)).toThrow();
  });

  it('exits 2 on missing options or a missing events file', () => {
    expect(assigner(['simulate', '--events', EVENTS]).status).toBe(2);
    const out = join(dir, 'x.jsonl');
    const missing = assigner([
      'simulate',
      '--events',
      join(dir, 'nope.log'),
      '--experiments',
      EXPERIMENTS,
      '--assignments-out',
      out,
      '--analytics-out',
      out,
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read events');
  });
});
