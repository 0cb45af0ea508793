/**
 * The organisation of a course key: `course-v1:ORG+COURSE+RUN`, `ccx-v1:ORG+COURSE+RUN+ccx@N`
 * or the old `ORG/COURSE/RUN`. Undefined for anything else.
 */
export function orgOfCourse(courseKey: string): string | undefined {
  const modern = /^(?:course|ccx)-v1:([^+]+)\+/.exec(courseKey);
  if (modern) return modern[1];
  const slashed = courseKey.split('/');
  return slashed.length === 3 && slashed.every((part) => part.length > 0) ? slashed[0] : undefined;
}
