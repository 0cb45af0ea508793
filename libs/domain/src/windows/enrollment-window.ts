import { parseIsoMicros, type Micros } from '../time/iso-time';

export type WindowVerdict = 'inside' | 'before_window' | 'after_window' | 'bad_window_date';

export interface WindowCheck {
  verdict: WindowVerdict;
  /** The bound that decided, or failed to parse. */
  bound?: 'enrollment_start' | 'enrollment_end';
}

/**
 * edx-platform's `_is_enrollment_inside_date_bounds`: the enrollment's creation time (or the
 * event time for a learner not enrolled) must be at or after `enrollment_start` and before
 * `enrollment_end`. Empty or missing bounds do not apply. A bound that does not parse makes the
 * learner not bucketed. Offsets in bounds are dropped, as edx-platform drops them.
 */
export function checkEnrollmentWindow(
  keyValues: Readonly<Record<string, string>>,
  enrolledAt: Micros,
): WindowCheck {
  const start = keyValues.enrollment_start;
  if (start) {
    const startAt = parseIsoMicros(start, { ignoreOffset: true });
    if (startAt === undefined) return { verdict: 'bad_window_date', bound: 'enrollment_start' };
    if (enrolledAt < startAt) return { verdict: 'before_window', bound: 'enrollment_start' };
  }
  const end = keyValues.enrollment_end;
  if (end) {
    const endAt = parseIsoMicros(end, { ignoreOffset: true });
    if (endAt === undefined) return { verdict: 'bad_window_date', bound: 'enrollment_end' };
    if (enrolledAt >= endAt) return { verdict: 'after_window', bound: 'enrollment_end' };
  }
  return { verdict: 'inside' };
}
