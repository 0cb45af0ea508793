// A deterministic synthetic Open edX tracking log with a realistic mix: most events are repeat
// page views of learners already enrolled, with new enrollments, management-command enrollments
// without a username, anonymous views, events of other types and invalid lines.

import { validateExperimentsFile } from '@assigner/contracts';
import type { Experiment } from '@assigner/domain';

/** mulberry32: a tiny seeded PRNG, so every run writes the same file. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The courses of the synthetic log; every bench experiment decides in each. */
export const BENCH_COURSES = [
  'course-v1:edX+DemoX+2026',
  'course-v1:MITx+6.00.1x+2T2026',
  'course-v1:HarvardX+CS50+2026',
  'edX/Open_DemoX/edx_demo_course',
] as const;
const COURSES: readonly string[] = BENCH_COURSES;

export interface SyntheticLogOptions {
  lines: number;
  users: number;
  seed?: number;
  start?: Date;
  /** User ids are `firstUserId` … `firstUserId + users - 1` (default 1), usernames `learner<id>`. */
  firstUserId?: number;
}

/**
 * An `edx.course.enrollment.activated` tracking-log line; `byCommand`: as a management command
 * logs it, with no username and no user id in the context.
 */
export function enrollmentLine(
  userId: number,
  course: string,
  stamp: string,
  byCommand = false,
): string {
  return JSON.stringify({
    username: byCommand ? 'anonymous' : `learner${userId}`,
    host: byCommand ? '' : 'lms.example.com',
    event_source: 'server',
    event_type: 'edx.course.enrollment.activated',
    context: {
      course_id: course,
      org_id: 'x',
      user_id: byCommand ? null : userId,
      path: '/change_enrollment',
    },
    time: stamp,
    event: { course_id: course, user_id: userId, mode: 'audit' },
    page: null,
  });
}

/** A server-side page view of a course's courseware by an enrolled learner. */
export function coursewareViewLine(
  userId: number,
  course: string,
  stamp: string,
  username = `learner${userId}`,
): string {
  return JSON.stringify({
    username,
    host: 'lms.example.com',
    event_source: 'server',
    event_type: `/courses/${course}/courseware/`,
    context: {
      course_id: course,
      org_id: 'x',
      user_id: userId,
      path: `/courses/${course}/courseware/`,
    },
    time: stamp,
    event: '{"POST": {}, "GET": {}}',
    page: null,
  });
}

/** A tracking-log `time` with microseconds, as the LMS writes it (`fraction`: 0–999). */
export function logStamp(time: number, fraction: number): string {
  return `${new Date(time).toISOString().slice(0, -1)}${String(fraction).padStart(3, '0')}+00:00`;
}

/** One JSON line per element (invalid lines are not JSON), in time order. */
export function* syntheticTrackingLog(options: SyntheticLogOptions): Generator<string> {
  const next = seededRandom(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const enrolled = new Map<number, string[]>();
  let time = (options.start ?? new Date('2026-03-01T00:00:00Z')).getTime();
  for (let i = 0; i < options.lines; i++) {
    time += 1 + Math.floor(next() * 2000);
    const stamp = logStamp(time, i % 1000);
    const userId = (options.firstUserId ?? 1) + Math.floor(next() * options.users);
    const username = `learner${userId}`;
    const roll = next();
    const courses = enrolled.get(userId);
    if (roll < 0.1 || (roll < 0.75 && !courses)) {
      const course = pick(COURSES);
      enrolled.set(userId, [...(courses ?? []), course]);
      // Some enrollments come from management commands, with no username.
      yield enrollmentLine(userId, course, stamp, next() < 0.1);
    } else if (roll < 0.75) {
      yield coursewareViewLine(userId, pick(courses!), stamp);
    } else if (roll < 0.85) {
      yield JSON.stringify({
        username: '',
        host: 'lms.example.com',
        event_source: 'server',
        event_type: `/courses/${pick(COURSES)}/about`,
        context: { course_id: '', org_id: '', user_id: null, path: '/courses/' },
        time: stamp,
        event: '{"POST": {}, "GET": {}}',
        page: null,
      });
    } else if (roll < 0.98) {
      yield JSON.stringify({
        username,
        event_source: 'browser',
        event_type: 'play_video',
        context: { course_id: pick(COURSES), user_id: userId },
        time: stamp,
        event: '{"id": "abc", "currentTime": 12}',
      });
    } else if (roll < 0.99) {
      yield `not json at line ${i}`;
    } else {
      yield JSON.stringify({
        username,
        event_source: 'server',
        event_type: '/courses',
        context: { user_id: 'x' },
        time: stamp,
      });
    }
  }
}

export const BENCH_EXPERIMENTS = {
  experiments: [
    {
      namespace: 'course_experience',
      name: 'animated_exy',
      experimentId: 7,
      numBuckets: 2,
      triggers: ['page_view', 'enrollment'],
      flag: { everyone: true },
      keyValues: { enrollment_start: '2026-03-01T06:00:00Z' },
    },
    {
      namespace: 'experiments',
      name: 'four_way',
      numBuckets: 4,
      flag: { percent: 50 },
      bucketFlags: { '3': { users: ['learner7'] } },
    },
    {
      namespace: 'experiments',
      name: 'site_wide',
      scope: 'global',
      numBuckets: 2,
      flag: { authenticated: true },
    },
  ],
};

/** The user id a log shipper would key a tracking-log line by; null for lines without one. */
export function userKey(line: string): string | null {
  try {
    const record = JSON.parse(line) as {
      context?: { user_id?: unknown };
      event?: { user_id?: unknown };
      user_id?: unknown;
    };
    const id = record.event?.user_id ?? record.context?.user_id ?? record.user_id;
    return typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

/** BENCH_EXPERIMENTS as the engine takes them. */
export function benchExperiments(): Experiment[] {
  const validated = validateExperimentsFile(BENCH_EXPERIMENTS);
  if (!validated.ok) throw new Error(validated.problems.join('\n'));
  return validated.value;
}
