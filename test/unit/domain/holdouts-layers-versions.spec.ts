import { analyticsMessageOf, HELD_OUT_EVENT, withBucketVersionStarts } from '@assigner/contracts';
import {
  applyEvent,
  bucketVersionAt,
  checkHoldout,
  checkLayer,
  chiSquareUpperTail,
  emptyUserState,
  namespacedName,
  parseIsoMicros,
  type Experiment,
  type PageViewEvent,
} from '@assigner/domain';
import fc from 'fast-check';
import { experiment } from '../../support/experiments';

const at = (text: string) => parseIsoMicros(text)!;
const COURSE = 'course-v1:edX+DemoX+2026';
const view = (userId: number, username: string, time: string): PageViewEvent => ({
  kind: 'page_view',
  userId,
  username,
  courseId: COURSE,
  time: at(time),
});
const USERS = Array.from({ length: 100_000 }, (_, i) => `learner${i}`);

/** Chi-square p-value of counts against expected shares (summing to 1). */
function fitPValue(counts: readonly number[], shares: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const chiSquare = counts.reduce((sum, count, i) => {
    const expected = total * shares[i]!;
    return sum + (count - expected) ** 2 / expected;
  }, 0);
  return chiSquareUpperTail(chiSquare, counts.length - 1);
}

describe('holdouts', () => {
  const holdout = { name: 'holdouts.q1', percent: 12.5 };

  it('hold out the configured share of 100k learners (chi-square)', () => {
    const held = USERS.filter((username) => checkHoldout(holdout, username).heldOut).length;
    expect(fitPValue([held, USERS.length - held], [0.125, 0.875])).toBeGreaterThan(0.001);
  });

  it('are stable, and the same learners for every experiment they cover', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), (username) => {
        const first = checkHoldout(holdout, username).heldOut;
        expect(checkHoldout({ ...holdout }, username).heldOut).toBe(first);
        const a = experiment({ name: 'a', holdout });
        const b = experiment({ name: 'b', holdout, scope: 'global' });
        const state = emptyUserState(1);
        const outcome = applyEvent(state, { ...view(1, username, '2026-03-01T00:00:00Z') }, [a, b]);
        const reasons = outcome.decisions.map(({ decision }) => decision.reason);
        expect(reasons.every((reason) => reason === 'holdout')).toBe(first);
        expect(reasons.some((reason) => reason === 'holdout')).toBe(first);
      }),
    );
  });

  it("record a learner's membership once, as a message of its own", () => {
    const covered = experiment({ holdout: { name: 'holdouts.all', percent: 100 } });
    const state = emptyUserState(7);
    const first = applyEvent(state, view(7, 'alice', '2026-03-01T00:00:00Z'), [covered]);
    const second = applyEvent(state, view(7, 'alice', '2026-03-02T00:00:00Z'), [covered]);
    expect(first.decisions[0]?.decision).toEqual({ bucketed: false, reason: 'holdout' });
    expect(first.changes).toHaveLength(1);
    expect(second.changes).toHaveLength(0);
    const { assignment, change } = first.changes[0]!;
    expect(assignment).toMatchObject({
      experiment: 'holdouts.all',
      courseId: null,
      reason: 'holdout',
    });
    const message = analyticsMessageOf(assignment, change);
    expect(message.event).toBe(HELD_OUT_EVENT);
    expect(message.properties).toMatchObject({
      app_label: 'holdouts',
      experiment: 'all',
      course_id: null,
    });
    // No bucket in the covered experiment.
    expect([...state.assignments.values()].map(({ experiment }) => experiment)).toEqual([
      'holdouts.all',
    ]);
  });
});

describe('layers', () => {
  const inLayer = (name: string, range: [number, number]): Experiment =>
    experiment({ name, scope: 'global', layer: { name: 'checkout', range } });
  const layer = [inLayer('a', [0, 20]), inLayer('b', [20, 50]), inLayer('c', [50, 100])];

  it("split 100k learners over the experiments' shares (chi-square)", () => {
    const counts = [0, 0, 0, 0];
    for (const username of USERS) {
      const owner = layer.findIndex(
        (one) =>
          checkLayer({ ...one, layer: one.layer! }, username, new Map()).verdict === 'in_range',
      );
      counts[owner === -1 ? 3 : owner]! += 1;
    }
    expect(counts[3]).toBe(0);
    expect(fitPValue(counts.slice(0, 3), [0.2, 0.3, 0.5])).toBeGreaterThan(0.001);
  });

  it('never put a learner in two experiments of a layer, and allocation changes move nobody assigned', () => {
    // Allocations the layer goes through: shares reassigned, an experiment's share emptied.
    const allocations: [number, number][][] = [
      [
        [0, 20],
        [20, 50],
        [50, 100],
      ],
      [
        [60, 100],
        [0, 30],
        [30, 60],
      ],
      [
        [0, 10],
        [10, 20],
        [20, 100],
      ],
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            user: fc.integer({ min: 1, max: 40 }),
            allocation: fc.integer({ min: 0, max: 2 }),
          }),
          {
            minLength: 1,
            maxLength: 120,
          },
        ),
        (steps) => {
          const states = new Map<number, ReturnType<typeof emptyUserState>>();
          const firstExperiment = new Map<number, string>();
          steps.forEach(({ user, allocation }, index) => {
            const experiments = layer.map((one, i) => ({
              ...one,
              layer: { name: 'checkout', range: allocations[allocation]![i]! },
            }));
            const state = states.get(user) ?? emptyUserState(user);
            states.set(user, state);
            const time = new Date(Date.UTC(2026, 2, 1) + index * 60_000).toISOString();
            applyEvent(state, view(user, `learner${user}`, time), experiments);
            const held = [...state.assignments.values()].map(({ experiment }) => experiment);
            expect(new Set(held).size).toBeLessThanOrEqual(1);
            if (held[0] !== undefined) {
              if (!firstExperiment.has(user)) firstExperiment.set(user, held[0]);
              expect(held[0]).toBe(firstExperiment.get(user));
            }
          });
        },
      ),
    );
  });

  it('tell why a learner is outside', () => {
    const [a, b] = layer;
    const username = USERS.find(
      (u) => checkLayer({ ...a!, layer: a!.layer! }, u, new Map()).verdict === 'in_range',
    )!;
    const state = emptyUserState(3);
    applyEvent(state, view(3, username, '2026-03-01T00:00:00Z'), [a!]);
    const outcome = applyEvent(state, view(3, username, '2026-03-02T00:00:00Z'), [a!, b!]);
    expect(outcome.decisions.map(({ decision }) => decision.reason)).toEqual(['hash', 'layer']);
    expect(
      checkLayer(
        { ...b!, layer: b!.layer! },
        username,
        new Map([['checkout', namespacedName(a!)]]),
      ),
    ).toMatchObject({
      verdict: 'other_experiment',
      heldBy: namespacedName(a!),
    });
  });
});

describe('bucket versions', () => {
  it('re-randomize the decisions made after the bump; earlier ones stay in the history', () => {
    const v0 = experiment({ numBuckets: 10 });
    const v1 = { ...v0, bucketVersion: 1 };
    let moved = 0;
    for (let user = 1; user <= 200; user++) {
      const state = emptyUserState(user);
      const before = applyEvent(state, view(user, `learner${user}`, '2026-03-01T00:00:00Z'), [v0]);
      const first = before.changes[0]!.change;
      expect(first.bucketVersion).toBeUndefined();
      // History applied again after the bump decides nothing new: the bump is not retroactive.
      expect(
        applyEvent(state, view(user, `learner${user}`, '2026-03-01T00:00:00Z'), [v1]).changes,
      ).toEqual([]);
      const after = applyEvent(state, view(user, `learner${user}`, '2026-03-02T00:00:00Z'), [v1]);
      const assignment = state.assignments.values().next().value!;
      expect(assignment.history[0]).toEqual(first);
      if (after.changes.length > 0) {
        moved += 1;
        expect(after.changes[0]!.change).toMatchObject({ version: 1, bucketVersion: 1 });
        expect(analyticsMessageOf(assignment).properties.bucket_version).toBe(1);
      }
    }
    // With 10 buckets, about nine in ten learners land elsewhere under a new version.
    expect(moved).toBeGreaterThan(150);
  });

  it('apply from their start: history from before decides, applied again, as it did', () => {
    const bumped = experiment({
      numBuckets: 10,
      bucketVersion: 2,
      bucketVersionFrom: { '1': '2026-03-05T00:00:00Z', '2': '2026-04-01T00:00:00Z' },
    });
    expect(bucketVersionAt(bumped, at('2026-03-01T00:00:00Z'))).toBe(0);
    expect(bucketVersionAt(bumped, at('2026-03-05T00:00:00Z'))).toBe(1);
    expect(bucketVersionAt(bumped, at('2026-05-01T00:00:00Z'))).toBe(2);
    expect(
      bucketVersionAt(
        { bucketVersion: 2, bucketVersionFrom: { '2': '2026-04-01T00:00:00Z' } },
        at('2026-03-01T00:00:00Z'),
      ),
    ).toBe(1);
    for (let user = 1; user <= 100; user++) {
      // Decided before the bump, then a later pre-bump event: applied again after the bump (a
      // replay), both decide as they did under version 0.
      const original = emptyUserState(user);
      const old = experiment({ numBuckets: 10 });
      applyEvent(original, view(user, `learner${user}`, '2026-03-01T00:00:00Z'), [old]);
      applyEvent(original, view(user, `learner${user}`, '2026-03-02T00:00:00Z'), [old]);
      const replayed = emptyUserState(user);
      applyEvent(replayed, view(user, `learner${user}`, '2026-03-01T00:00:00Z'), [bumped]);
      expect(
        applyEvent(replayed, view(user, `learner${user}`, '2026-03-02T00:00:00Z'), [bumped])
          .changes,
      ).toEqual([]);
      expect([...replayed.assignments.values()]).toEqual([...original.assignments.values()]);
    }
  });

  it('start when raised through the API or a file, earlier starts kept', () => {
    const stored = experiment({
      bucketVersion: 1,
      bucketVersionFrom: { '1': '2026-03-05T00:00:00.000Z' },
    });
    const now = new Date('2026-04-01T12:00:00Z');
    expect(
      withBucketVersionStarts(experiment({ bucketVersion: 3 }), stored, now).bucketVersionFrom,
    ).toEqual({
      '1': '2026-03-05T00:00:00.000Z',
      '2': '2026-04-01T12:00:00.000Z',
      '3': '2026-04-01T12:00:00.000Z',
    });
    // The same version again: nothing starts; a new experiment's versions need no start.
    expect(withBucketVersionStarts(experiment({ bucketVersion: 1 }), stored, now)).toEqual(stored);
    expect(
      withBucketVersionStarts(experiment({ bucketVersion: 2 }), undefined, now).bucketVersionFrom,
    ).toBeUndefined();
  });

  it('leave version 0 as edx-platform hashes, with no version in the message', () => {
    const state = emptyUserState(1);
    const { changes } = applyEvent(state, view(1, 'alice', '2026-03-01T00:00:00Z'), [
      experiment({ bucketVersion: 0 }),
    ]);
    expect(Object.keys(analyticsMessageOf(changes[0]!.assignment).properties)).not.toContain(
      'bucket_version',
    );
  });
});
