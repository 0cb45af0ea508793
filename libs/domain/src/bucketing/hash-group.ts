import { namespacedName, type Experiment } from '../experiment/experiment';
import type { Micros } from '../time/iso-time';
import { bucketVersionAt } from './bucket-version';

/**
 * The group name a learner's bucket is hashed under at `now`: edx-platform's (`ns.name`, with the
 * course when bucketing is course-aware), and from bucket version 1 on, the version after it, so
 * that a new version re-randomizes while version 0 stays edx-platform's hash exactly.
 */
export function hashGroupOf(
  experiment: Pick<
    Experiment,
    'namespace' | 'name' | 'courseAwareBucketing' | 'bucketVersion' | 'bucketVersionFrom'
  >,
  courseId: string | undefined,
  now: Micros,
): string {
  const flagName = namespacedName(experiment);
  const group =
    courseId !== undefined && experiment.courseAwareBucketing
      ? `${flagName}.${courseId}`
      : flagName;
  const version = bucketVersionAt(experiment, now);
  return version > 0 ? `${group}@v${version}` : group;
}
