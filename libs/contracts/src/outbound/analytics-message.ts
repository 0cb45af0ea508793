import {
  formatMicros,
  messageIdOf,
  type AssignmentRecord,
  type BucketChange,
} from '@assigner/domain';

export const BUCKETED_EVENT = 'edx.bi.experiment.user.bucketed';
/**
 * Not edx-platform's: a learner found in a holdout, once, reported under the holdout's name (its
 * `experiment` and `app_label`) with bucket 0, so that the warehouse can compare the held-out
 * learners with those exposed.
 */
export const HELD_OUT_EVENT = 'edx.bi.experiment.user.held_out';

/** The Segment track call edx-platform sends when it buckets a learner, keyed by user id on Kafka. */
export interface AnalyticsMessage {
  type: 'track';
  event: typeof BUCKETED_EVENT | typeof HELD_OUT_EVENT;
  messageId: string;
  userId: number;
  timestamp: string;
  properties: {
    site: string | null;
    app_label: string;
    experiment: string;
    course_id: string | null;
    bucket: number;
    /** The experiment's bucket version that decided it; absent for edx-platform's hash. */
    bucket_version?: number;
    is_staff: boolean;
    nonInteraction: 1;
  };
}

/**
 * The message for one bucket change of an assignment (by default its latest), built from stored
 * state alone so that the worker, a replay and a republish produce the same bytes and messageId.
 */
export function analyticsMessageOf(
  assignment: AssignmentRecord,
  change?: BucketChange,
): AnalyticsMessage {
  const reported = change ?? assignment.history[assignment.history.length - 1];
  if (!reported)
    throw new Error(
      `assignment ${assignment.experiment} of user ${assignment.userId} has no history`,
    );
  const dot = assignment.experiment.indexOf('.');
  return {
    type: 'track',
    event: reported.reason === 'holdout' ? HELD_OUT_EVENT : BUCKETED_EVENT,
    messageId: messageIdOf({ ...assignment, bucket: reported.bucket, version: reported.version }),
    userId: assignment.userId,
    timestamp: formatMicros(reported.at),
    properties: {
      site: reported.site,
      app_label: assignment.experiment.slice(0, dot),
      experiment: assignment.experiment.slice(dot + 1),
      course_id: assignment.courseId,
      bucket: reported.bucket,
      ...(reported.bucketVersion ? { bucket_version: reported.bucketVersion } : {}),
      is_staff: reported.isStaff,
      nonInteraction: 1,
    },
  };
}
