import { namespacedName, type Experiment } from '../experiment/experiment';

/**
 * The group name a learner's bucket is hashed under: edx-platform's (`ns.name`, with the course
 * when bucketing is course-aware), and from bucket version 1 on, the version after it, so that a
 * new version re-randomizes while version 0 stays edx-platform's hash exactly.
 */
export function hashGroupOf(
  experiment: Pick<Experiment, 'namespace' | 'name' | 'courseAwareBucketing' | 'bucketVersion'>,
  courseId: string | undefined,
): string {
  const flagName = namespacedName(experiment);
  const group =
    courseId !== undefined && experiment.courseAwareBucketing
      ? `${flagName}.${courseId}`
      : flagName;
  const version = experiment.bucketVersion ?? 0;
  return version > 0 ? `${group}@v${version}` : group;
}
