import type { AnalyticsMessage, InboundMessage, LearnerStateStore } from '@assigner/contracts';
import { emptyUserState, type UserState } from '@assigner/domain';
import { BatchAssigner } from '@assigner/pipeline';
import { experiment } from '../../support/experiments';

type Loaded = { states: Map<number, UserState> };

const COURSE = 'course-v1:edX+DemoX+2026';
const pageView = (userId: number, username: string, offset: number): InboundMessage => ({
  value: JSON.stringify({
    username,
    event_source: 'server',
    event_type: `/courses/${COURSE}/courseware/`,
    time: `2026-03-01T10:00:0${offset}.000000+00:00`,
    context: { user_id: userId, course_id: COURSE },
  }),
  position: { source: 'input/0', offset },
});
const batch = [pageView(1, 'alice', 0), pageView(2, 'bob', 1), pageView(1, 'alice', 2)];
const EXPERIMENTS = [experiment()];

/**
 * Learners in memory. `meanwhile` runs at the first save, as another writer would; the derived
 * writes (the lookup copies) are finished by `finishDerived`.
 */
class TestStore implements LearnerStateStore {
  readonly stored = new Map<number, UserState>();
  readonly calls: string[] = [];
  private readonly finishers: ((error?: Error) => void)[] = [];
  private saves = 0;

  constructor(
    private readonly meanwhile: (stored: Map<number, UserState>) => number[] = () => [],
  ) {}

  load(userIds: readonly number[]): Promise<Loaded> {
    this.calls.push('load');
    const copy = (id: number) => structuredClone(this.stored.get(id) ?? emptyUserState(id));
    return Promise.resolve({ states: new Map(userIds.map((id) => [id, copy(id)])) });
  }

  save(loaded: Loaded): Promise<{ conflicts: number[]; derived: Promise<void> }> {
    this.calls.push('save');
    const raced = this.saves++ === 0 ? this.meanwhile(this.stored) : [];
    for (const [id, state] of loaded.states) if (!raced.includes(id)) this.stored.set(id, state);
    const derived = new Promise<void>((resolve, reject) => {
      this.finishers.push((error) => (error ? reject(error) : resolve()));
    });
    return Promise.resolve({ conflicts: raced, derived });
  }

  finishDerived(error?: Error): void {
    for (const finish of this.finishers) finish(error);
  }
}

describe('a batch’s messages, handed out once its learners are stored', () => {
  it('are the batch’s result, handed out while the store writes the lookup copies', async () => {
    const store = new TestStore();
    const early: AnalyticsMessage[][] = [];
    let finished = false;
    const processing = new BatchAssigner(store)
      .process(batch, EXPERIMENTS, {
        output: {
          send: (analytics) => {
            store.calls.push('decided');
            early.push([...analytics]);
          },
        },
      })
      .then((result) => {
        finished = true;
        return result;
      });
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls).toEqual(['load', 'save', 'decided']);
    expect(finished).toBe(false);
    store.finishDerived();
    const result = await processing;
    expect(result.analytics.map(({ userId }) => userId)).toEqual([1, 2]);
    expect(early).toEqual([result.analytics]);
    // One decision per triggering view, counted per experiment and outcome for the metrics.
    expect(result.decisions.map(({ experiment }) => experiment)).toEqual(
      result.decisions.map(() => 'experiments.test'),
    );
    expect(result.decisions.every(({ outcome }) => /^bucket [01]$/.test(outcome))).toBe(true);
    expect(result.decisions.reduce((sum, { count }) => sum + count, 0)).toBe(3);
  });

  it('are those decided on the other writer’s state when one changed a learner meanwhile', async () => {
    // Another process (say a replay of the same history) assigns alice between load and save.
    const theirs = new TestStore();
    const replayed = { ...batch[0]!, position: { source: 'replay:1', offset: 0 } };
    const theirRun = new BatchAssigner(theirs).process([replayed], EXPERIMENTS);
    await new Promise((resolve) => setImmediate(resolve));
    theirs.finishDerived();
    const { analytics: theirMessages } = await theirRun;

    const store = new TestStore((stored) => {
      stored.set(1, theirs.stored.get(1)!);
      return [1];
    });
    const early: AnalyticsMessage[][] = [];
    const processing = new BatchAssigner(store).process(batch, EXPERIMENTS, {
      output: { send: (analytics) => early.push([...analytics]) },
    });
    await new Promise((resolve) => setImmediate(resolve));
    store.finishDerived();
    const result = await processing;
    expect(store.calls).toEqual(['load', 'save', 'load', 'save']);
    // Alice's message was the other writer's to publish; only bob's is this batch's.
    expect(theirMessages.map(({ userId }) => userId)).toEqual([1]);
    expect(early).toEqual([result.analytics]);
    expect(result.analytics.map(({ userId }) => userId)).toEqual([2]);
  });

  it('fail the batch when the lookup copies cannot be written', async () => {
    const store = new TestStore();
    const processing = new BatchAssigner(store).process(batch, EXPERIMENTS);
    await new Promise((resolve) => setImmediate(resolve));
    store.finishDerived(new Error('store unavailable'));
    await expect(processing).rejects.toThrow('store unavailable');
  });
});

describe('what a batch is about to store, told before it is stored', () => {
  it('names the learners whose changes each attempt stores, and the dead letters once', async () => {
    // Bob's state changes under the first attempt: the second attempt stores his again.
    const store = new TestStore(() => [2]);
    const told: { learners: number[]; deadLetters: number }[] = [];
    const invalid: InboundMessage = {
      value: '{not json',
      position: { source: 'input/0', offset: 3 },
    };
    const processing = new BatchAssigner(store).process([...batch, invalid], EXPERIMENTS, {
      writeAhead: {
        record: ({ learners, deadLetters }) => {
          store.calls.push('told');
          told.push({ learners: [...learners].sort(), deadLetters: deadLetters.length });
          return Promise.resolve();
        },
      },
    });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    store.finishDerived();
    await processing;
    expect(store.calls).toEqual(['load', 'told', 'save', 'load', 'told', 'save']);
    expect(told).toEqual([
      { learners: [1, 2], deadLetters: 1 },
      { learners: [2], deadLetters: 0 },
    ]);
  });

  it('stores nothing when telling fails', async () => {
    const store = new TestStore();
    const processing = new BatchAssigner(store).process(batch, EXPERIMENTS, {
      writeAhead: { record: () => Promise.reject(new Error('store unavailable')) },
    });
    await expect(processing).rejects.toThrow('store unavailable');
    expect(store.calls).toEqual(['load']);
    expect(store.stored.size).toBe(0);
  });
});
