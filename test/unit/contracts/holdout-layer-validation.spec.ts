import { validateExperiment, validateExperimentsFile } from '@assigner/contracts';

const definition = (name: string, extra: Record<string, unknown> = {}) => ({
  namespace: 'shop',
  name,
  flag: { everyone: true },
  ...extra,
});

describe('holdouts, layers and bucket versions in definitions', () => {
  it('keep a definition without them exactly as it was', () => {
    const result = validateExperiment(definition('plain'));
    expect(result.ok && Object.keys(result.value)).not.toContain('holdout');
    expect(result.ok && Object.keys(result.value)).not.toContain('layer');
    expect(result.ok && Object.keys(result.value)).not.toContain('bucketVersion');
  });

  it('read them when given', () => {
    const result = validateExperiment(
      definition('a', {
        bucketVersion: 2,
        holdout: { name: 'holdouts.q1', percent: 5.25 },
        layer: { name: 'checkout', range: [0, 33.33] },
      }),
    );
    expect(result).toMatchObject({
      ok: true,
      value: {
        bucketVersion: 2,
        holdout: { name: 'holdouts.q1', percent: 5.25 },
        layer: { name: 'checkout', range: [0, 33.33] },
      },
    });
  });

  it('list every problem of each', () => {
    const result = validateExperiment(
      definition('a', {
        bucketVersion: -1,
        holdout: { name: 'q1', percent: 101, colour: 'red' },
        layer: { name: 'check out', range: [50, 20] },
      }),
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual(
      expect.arrayContaining([
        'experiment.bucketVersion: must be a whole number from 0 to 1000000',
        'experiment.holdout.colour: is not a known field',
        'experiment.holdout.name: must be "namespace.name" (letters, digits, "_", "-")',
        'experiment.holdout.percent: must be a number from 0 to 100, in hundredths at most',
        'experiment.layer.name: must be letters, digits, ".", "_" or "-"',
        'experiment.layer.range: must be [start, end] with 0 <= start < end <= 100, in hundredths at most',
      ]),
    );
  });

  it('refuse overlapping shares of a layer, one holdout with two percents, a holdout named like an experiment', () => {
    const result = validateExperimentsFile({
      experiments: [
        definition('a', {
          layer: { name: 'checkout', range: [0, 50] },
          holdout: { name: 'shop.c', percent: 5 },
        }),
        definition('b', {
          layer: { name: 'checkout', range: [40, 100] },
          holdout: { name: 'shop.h', percent: 5 },
        }),
        definition('c', {
          layer: { name: 'other', range: [40, 100] },
          holdout: { name: 'shop.h', percent: 10 },
        }),
      ],
    });
    expect(!result.ok && result.problems).toEqual([
      "shop.a.holdout.name: shop.c is an experiment's name",
      "shop.b.layer.range: [40, 100) overlaps shop.a's [0, 50) in layer checkout",
      'shop.c.holdout.percent: holdout shop.h is 5% in shop.b, not 10%',
    ]);
  });

  it('accept adjacent shares', () => {
    const result = validateExperimentsFile({
      experiments: [
        definition('a', { layer: { name: 'checkout', range: [0, 50] } }),
        definition('b', { layer: { name: 'checkout', range: [50, 100] } }),
      ],
    });
    expect(result.ok).toBe(true);
  });
});
