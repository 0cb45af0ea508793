import {
  analyticsMessageOf,
  parseInboundMessage,
  type AnalyticsMessage,
  type AnalyticsOutput,
  type DeadLetter,
  type InboundMessage,
  type LearnerStateStore,
  type WriteAheadLog,
} from '@assigner/contracts';
import {
  applyEvent,
  namespacedName,
  type AssignmentChange,
  type EventOutcome,
  type Experiment,
  type LearnerAttributesLookup,
  type LearnerEvent,
  type SourcePosition,
} from '@assigner/domain';

export interface BatchCounts {
  enrollments: number;
  pageViews: number;
  ignored: number;
  invalid: number;
  /** Events the caller's filter left out (e.g. outside a replay's time range). */
  filtered: number;
}

export interface ProcessOptions {
  /** Only events it accepts are applied; the others are counted as filtered. */
  accept?: (event: LearnerEvent) => boolean;
  /**
   * Sent the batch's messages (its result's) once its learners' states are stored, while the
   * store still writes what follows from them: so that sending them can overlap those writes.
   */
  output?: AnalyticsOutput;
  /**
   * Told, and awaited, before each attempt stores states: the learners it stores or re-emits
   * changes of, and (the first time) the batch's dead letters.
   */
  writeAhead?: WriteAheadLog;
  /** Staff and superusers as the LMS export says, when loaded. */
  attributes?: LearnerAttributesLookup;
}

export interface BatchResult {
  /** In the order of the events that caused them. */
  analytics: AnalyticsMessage[];
  /** The assignment changes behind the analytics messages, in the same order. */
  changes: AssignmentChange[];
  deadLetters: DeadLetter[];
  counts: BatchCounts;
  /** The decisions made, for metrics: per experiment and outcome. */
  decisions: DecisionCount[];
}

export interface DecisionCount {
  /** `namespace.name`. */
  experiment: string;
  /** `bucket N`, or the reason nobody was bucketed. */
  outcome: string;
  count: number;
}

/** After this many lost races for the same learner in one batch, give up and let the batch retry. */
const MAX_ATTEMPTS = 8;

/**
 * The assignment pipeline over any learner-state store: parses a batch of messages, applies each
 * learner's events in order on their stored state, saves, and returns the analytics messages and
 * dead letters. A learner whose state another writer changed meanwhile is reloaded and has their
 * events applied again; events already reflected are recognised by their source positions.
 */
export class BatchAssigner {
  constructor(private readonly store: LearnerStateStore) {}

  async process(
    messages: readonly InboundMessage[],
    experiments: readonly Experiment[],
    options: ProcessOptions = {},
  ): Promise<BatchResult> {
    const counts: BatchCounts = {
      enrollments: 0,
      pageViews: 0,
      ignored: 0,
      invalid: 0,
      filtered: 0,
    };
    const deadLetters: DeadLetter[] = [];
    const events: {
      index: number;
      event: LearnerEvent & { userId: number };
      position: SourcePosition;
    }[] = [];
    messages.forEach((message, index) => {
      const parsed = parseInboundMessage(message);
      if (parsed.kind === 'invalid') deadLetters.push({ message, reason: parsed.reason });
      if (parsed.kind !== 'event') return void (counts[parsed.kind] += 1);
      const { event } = parsed;
      if (options.accept && !options.accept(event)) return void (counts.filtered += 1);
      if (event.kind === 'enrollment') counts.enrollments += 1;
      else counts.pageViews += 1;
      // Anonymous page views change nothing: no learner to remember anything about.
      if (event.userId !== undefined)
        events.push({
          index,
          event: event as LearnerEvent & { userId: number },
          position: message.position,
        });
    });

    // A worker's batch is one input partition's: the store may know which of its learners are new.
    const sources = new Set(events.map(({ position }) => position.source));
    const source = sources.size === 1 ? [...sources][0] : undefined;
    const produced = new Map<number, AssignmentChange[]>();
    const tally = new DecisionTally();
    let pending = [...new Set(events.map(({ event }) => event.userId))];
    const derived: Promise<void>[] = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS)
        throw new Error(`learners ${pending.join(', ')} kept changing under this batch`);
      const loaded = await this.store.load(pending, { fromStore: attempt > 1, source });
      const attemptDecisions = new Map<number, EventOutcome['decisions'][]>();
      const resync = new Set<number>();
      const changed = new Set<number>();
      for (const { index, event, position } of events) {
        const state = loaded.states.get(event.userId);
        if (!state) continue;
        const outcome = applyEvent(
          state,
          event,
          experiments,
          position,
          options.attributes?.of(event.userId),
        );
        if (outcome.changes.some((change) => change.redelivered)) resync.add(event.userId);
        // An event applied again after a conflict replaces what its earlier attempt produced.
        if (outcome.changes.length > 0) {
          changed.add(event.userId);
          produced.set(index, outcome.changes);
        } else produced.delete(index);
        const made = attemptDecisions.get(event.userId);
        if (made) made.push(outcome.decisions);
        else attemptDecisions.set(event.userId, [outcome.decisions]);
      }
      await options.writeAhead?.record({
        learners: [...changed],
        deadLetters: attempt === 1 ? deadLetters : [],
      });
      const saved = await this.store.save(loaded, { resync: [...resync] });
      const { conflicts } = saved;
      // Awaited below; a failure before then must not go unhandled.
      saved.derived.catch(() => undefined);
      derived.push(saved.derived);
      const retry = new Set(conflicts);
      for (const [userId, made] of attemptDecisions)
        if (!retry.has(userId)) for (const decisions of made) tally.add(decisions);
      pending = conflicts;
    }
    // Dead letters alone, nothing stored: recorded all the same, to be published with the batch.
    if (events.length === 0 && deadLetters.length > 0)
      await options.writeAhead?.record({ learners: [], deadLetters });
    const changes = [...produced.entries()].sort(([a], [b]) => a - b).flatMap(([, list]) => list);
    const analytics = changes.map((change) => analyticsMessageOf(change.assignment, change.change));
    options.output?.send(analytics);
    await Promise.all(derived);
    return {
      analytics,
      changes,
      deadLetters,
      counts,
      decisions: tally.counts(),
    };
  }
}

/** Decisions counted per experiment and outcome; named only at the end, not per decision. */
class DecisionTally {
  /** Outcome: the bucket, or the reason nobody was bucketed. */
  private readonly byExperiment = new Map<Experiment, Map<number | string, number>>();

  add(decisions: EventOutcome['decisions']): void {
    for (const { experiment, decision } of decisions) {
      let outcomes = this.byExperiment.get(experiment);
      if (!outcomes) {
        outcomes = new Map<number | string, number>();
        this.byExperiment.set(experiment, outcomes);
      }
      const outcome = decision.bucketed ? decision.bucket : decision.reason;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  }

  counts(): DecisionCount[] {
    return [...this.byExperiment].flatMap(([experiment, outcomes]) =>
      [...outcomes].map(([outcome, count]) => ({
        experiment: namespacedName(experiment),
        outcome: typeof outcome === 'number' ? `bucket ${outcome}` : outcome,
        count,
      })),
    );
  }
}
