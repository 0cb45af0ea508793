import {
  analyticsMessageOf,
  parseInbound,
  type AnalyticsMessage,
  type InboundHeaders,
} from '@assigner/contracts';
import {
  applyEvent,
  emptyUserState,
  namespacedName,
  type AssignmentRecord,
  type Experiment,
  type UserState,
} from '@assigner/domain';

export interface RunSummary {
  lines: number;
  enrollments: number;
  pageViews: number;
  ignored: number;
  invalid: number;
  assignments: number;
  messages: number;
  /** experiment → bucket → number of assignments currently in it. */
  buckets: Record<string, Record<string, number>>;
}

export type MessageOutcome =
  | { kind: 'processed'; messages: AnalyticsMessage[] }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

/**
 * The whole assignment pipeline with every learner's state in memory: what `assigner simulate`
 * runs, and the reference the worker's results are compared with. Feed it messages in order.
 */
export class InMemoryAssigner {
  private readonly users = new Map<number, UserState>();
  private readonly counts = {
    lines: 0,
    enrollments: 0,
    pageViews: 0,
    ignored: 0,
    invalid: 0,
    messages: 0,
  };

  constructor(private readonly experiments: readonly Experiment[]) {}

  process(raw: string | Buffer | null, headers?: InboundHeaders): MessageOutcome {
    this.counts.lines += 1;
    const parsed = parseInbound(raw, headers);
    if (parsed.kind !== 'event') {
      this.counts[parsed.kind] += 1;
      return parsed;
    }
    const { event } = parsed;
    if (event.kind === 'enrollment') this.counts.enrollments += 1;
    else this.counts.pageViews += 1;
    // Anonymous page views change nothing: no learner to remember anything about.
    if (event.userId === undefined) return { kind: 'processed', messages: [] };

    let state = this.users.get(event.userId);
    if (!state) {
      state = emptyUserState(event.userId);
      this.users.set(event.userId, state);
    }
    const messages = applyEvent(state, event, this.experiments).changes.map((change) =>
      analyticsMessageOf(change.assignment),
    );
    this.counts.messages += messages.length;
    return { kind: 'processed', messages };
  }

  /** Final assignments, ordered by experiment, course (none first), user id. */
  assignments(): AssignmentRecord[] {
    const all = [...this.users.values()].flatMap((state) => [...state.assignments.values()]);
    return all.sort(
      (a, b) =>
        compare(a.experiment, b.experiment) ||
        compare(a.courseId ?? '', b.courseId ?? '') ||
        a.userId - b.userId,
    );
  }

  summary(): RunSummary {
    const assignments = this.assignments();
    const buckets: Record<string, Record<string, number>> = {};
    for (const experiment of this.experiments) buckets[namespacedName(experiment)] = {};
    for (const { experiment, bucket } of assignments) {
      const perBucket = (buckets[experiment] ??= {});
      perBucket[bucket] = (perBucket[bucket] ?? 0) + 1;
    }
    return { ...this.counts, assignments: assignments.length, buckets };
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
