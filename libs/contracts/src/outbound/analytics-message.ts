import { formatMicros, messageIdOf, type AssignmentRecord } from '@assigner/domain';

export const BUCKETED_EVENT = 'edx.bi.experiment.user.bucketed';

/** The Segment track call edx-platform sends when it buckets a learner, keyed by user id on Kafka. */
export interface AnalyticsMessage {
  type: 'track';
  event: typeof BUCKETED_EVENT;
  messageId: string;
  userId: number;
  timestamp: string;
  properties: {
    site: string | null;
    app_label: string;
    experiment: string;
    course_id: string | null;
    bucket: number;
    is_staff: boolean;
    nonInteraction: 1;
  };
}

/**
 * The message for an assignment's current bucket, built from the stored assignment alone so that
 * the worker, a replay and a republish produce the same bytes and the same messageId.
 */
export function analyticsMessageOf(assignment: AssignmentRecord): AnalyticsMessage {
  const latest = assignment.history[assignment.history.length - 1];
  if (!latest)
    throw new Error(
      `assignment ${assignment.experiment} of user ${assignment.userId} has no history`,
    );
  const dot = assignment.experiment.indexOf('.');
  return {
    type: 'track',
    event: BUCKETED_EVENT,
    messageId: messageIdOf(assignment),
    userId: assignment.userId,
    timestamp: formatMicros(latest.at),
    properties: {
      site: latest.site,
      app_label: assignment.experiment.slice(0, dot),
      experiment: assignment.experiment.slice(dot + 1),
      course_id: assignment.courseId,
      bucket: assignment.bucket,
      is_staff: latest.isStaff,
      nonInteraction: 1,
    },
  };
}
