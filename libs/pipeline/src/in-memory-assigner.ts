import {
  namespacedName,
  type AssignmentRecord,
  type Experiment,
  type LearnerAttributesLookup,
} from '@assigner/domain';
import type { AnalyticsMessage, DeadLetter, InboundMessage } from '@assigner/contracts';
import { BatchAssigner } from './batch-assigner';
import { MemoryLearnerStore } from './memory-learner-store';

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

/**
 * The same pipeline as the worker's, with every learner's state in memory: what `assigner
 * simulate` runs, and the reference the worker's results are compared with.
 */
export class InMemoryAssigner {
  private readonly store = new MemoryLearnerStore();
  private readonly pipeline = new BatchAssigner(this.store);
  private readonly counts = {
    lines: 0,
    enrollments: 0,
    pageViews: 0,
    ignored: 0,
    invalid: 0,
    messages: 0,
  };

  constructor(
    private experiments: readonly Experiment[],
    /** Staff and superusers from an LMS export, as the worker has them from the store. */
    private readonly attributes?: LearnerAttributesLookup,
  ) {}

  /** Later messages are decided with these definitions, as a worker does after a change. */
  useExperiments(experiments: readonly Experiment[]): void {
    this.experiments = experiments;
  }

  /** Feed messages in order, in batches of any size: the results do not depend on the sizes. */
  async process(
    messages: readonly InboundMessage[],
  ): Promise<{ analytics: AnalyticsMessage[]; deadLetters: DeadLetter[] }> {
    const result = await this.pipeline.process(messages, this.experiments, {
      attributes: this.attributes,
    });
    this.counts.lines += messages.length;
    for (const key of ['enrollments', 'pageViews', 'ignored', 'invalid'] as const)
      this.counts[key] += result.counts[key];
    this.counts.messages += result.analytics.length;
    return result;
  }

  /** Final assignments, ordered by experiment, course (none first), user id. */
  assignments(): AssignmentRecord[] {
    const all = [...this.store.users.values()].flatMap((state) => [...state.assignments.values()]);
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
