import fc from 'fast-check';
import { chiSquareUpperTail, sampleRatioMismatch, SRM_ALPHA, stableBucket } from '@assigner/domain';

// Reference p-values were computed independently of this code, in Python 3.11.7, with
// mpmath 1.3.0 at 50 significant digits:
//   mpmath.gammainc(dof/2, x/2, mpmath.inf, regularized=True)
// (x itself also computed in mpmath from the counts), cross-checked against
// scipy.stats.chi2.sf from SciPy 1.17.1 (agreement within 1e-12 relative, every value), and
// written here as repr(float(p)), the double nearest the 50-digit value.

/** |actual − expected| ≤ 1e-6 absolutely, and also 1e-9 relatively, for the tiny p-values. */
function expectPValue(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-6);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * expected);
}

/** Deterministic assignment set: the real bucketing hash over learner0 … learner9999. */
function seededAssignments(): { username: string; bucket: number; index: number }[] {
  return Array.from({ length: 10_000 }, (_, index) => {
    const username = `learner${index}`;
    return { username, index, bucket: stableBucket('srm-check-seed', 2, username) };
  });
}

function countBuckets(buckets: readonly number[], numBuckets: number): number[] {
  const counts = new Array<number>(numBuckets).fill(0);
  for (const bucket of buckets) counts[bucket] = (counts[bucket] ?? 0) + 1;
  return counts;
}

describe('sample ratio mismatch check', () => {
  it('does not flag a seeded assignment set bucketed by the real hash', () => {
    // Counts reproduced in Python with edx-platform's stable_bucketing_hash_group (hashlib.md5).
    const counts = countBuckets(
      seededAssignments().map((a) => a.bucket),
      2,
    );
    expect(counts).toEqual([4950, 5050]);
    const check = sampleRatioMismatch(counts);
    expect(check).toMatchObject({
      buckets: 2,
      total: 10_000,
      expectedPerBucket: 5000,
      degreesOfFreedom: 1,
      mismatch: false,
    });
    expect(check.chiSquare).toBeCloseTo(1, 12);
    expectPValue(check.pValue, 0.3173105078629141);
  });

  it('flags the same seeded set when one bucket loses one event in ten', () => {
    // A classic SRM cause: the treatment's events are dropped for learners with index % 10 = 0.
    const kept = seededAssignments().filter((a) => !(a.bucket === 1 && a.index % 10 === 0));
    const counts = countBuckets(
      kept.map((a) => a.bucket),
      2,
    );
    expect(counts).toEqual([4950, 4556]);
    const check = sampleRatioMismatch(counts);
    expect(check.mismatch).toBe(true);
    expect(check.chiSquare).toBeCloseTo(16.330317694087945, 10);
    expectPValue(check.pValue, 5.320587982542335e-5);
  });

  it.each([
    // counts, chi-square, p-value (mpmath, see top), flagged
    [[5012, 4988], 0.0576, 0.8103302566044083, false],
    [[5200, 4800], 16, 6.334248366623985e-5, true],
    // Either side of the 0.001 threshold: the dof-1 critical value is 10.828.
    [[5164, 4836], 10.7584, 0.0010380708664139457, false],
    [[5165, 4835], 10.89, 0.0009668482847675545, true],
    [[6000, 4000], 400, 5.5072482372124675e-89, true],
    // Three buckets (dof 2: p = e^(−x/2) exactly, so these two are also e^−2.5 and e^−10).
    [[1000, 1050, 950], 5, 0.0820849986238988, false],
    [[1000, 1100, 900], 20, 4.5399929762484854e-5, true],
    // Four buckets, including an empty bucket.
    [[2600, 2450, 2500, 2450], 6, 0.11161022509471256, false],
    [[260, 240, 250, 250], 0.8, 0.8494670333918255, false],
    [[30, 0, 30, 30], 30, 1.3800570312932547e-6, true],
  ])('%j: χ² %d, p %d', (counts, chiSquare, pValue, mismatch) => {
    const check = sampleRatioMismatch(counts);
    expect(check.buckets).toBe(counts.length);
    expect(check.degreesOfFreedom).toBe(counts.length - 1);
    expect(check.chiSquare).toBeCloseTo(chiSquare, 10);
    expect(check.pValue).toBeCloseTo(pValue, 6);
    expectPValue(check.pValue, pValue);
    expect(check.mismatch).toBe(mismatch);
  });

  it('reports no mismatch, p = 1, when there are no assignments yet', () => {
    expect(sampleRatioMismatch([0, 0, 0])).toEqual({
      buckets: 3,
      total: 0,
      expectedPerBucket: 0,
      chiSquare: 0,
      degreesOfFreedom: 2,
      pValue: 1,
      mismatch: false,
    });
  });

  it.each([[[]], [[10]]])('refuses fewer than 2 buckets: %j', (counts) => {
    expect(() => sampleRatioMismatch(counts)).toThrow(RangeError);
    expect(() => sampleRatioMismatch(counts)).toThrow(/at least 2 buckets/);
  });

  it.each([[[5, -1]], [[5, 1.5]], [[5, NaN]], [[5, Infinity]], [[2 ** 53, 0]]])(
    'refuses a count that is not a non-negative integer: %p',
    (counts) => {
      expect(() => sampleRatioMismatch(counts)).toThrow(RangeError);
      expect(() => sampleRatioMismatch(counts)).toThrow(/non-negative integer/);
    },
  );

  it('refuses counts whose total cannot be summed exactly', () => {
    expect(() => sampleRatioMismatch([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
  });
});

describe('chi-square upper tail', () => {
  // Critical values from a printed chi-square table (NIST/SEMATECH e-Handbook of Statistical
  // Methods, §1.3.6.7.4), to the table's 3 decimals: the exact critical value must round to the
  // printed one, so α lies between the tail at x − 0.0005 and at x + 0.0005. (A 3-decimal x pins
  // p only to about 1e-5 at the 0.05 level, hence the looser closeness check.)
  it.each([
    [1, 10.828, 0.001],
    [2, 13.816, 0.001],
    [3, 16.266, 0.001],
    [10, 29.588, 0.001],
    [20, 45.315, 0.001],
    [1, 3.841, 0.05],
    [2, 5.991, 0.05],
  ])('agrees with the textbook table: dof %d, x %d → p %d', (dof, x, alpha) => {
    expect(chiSquareUpperTail(x - 0.0005, dof)).toBeGreaterThan(alpha);
    expect(chiSquareUpperTail(x + 0.0005, dof)).toBeLessThan(alpha);
    expect(chiSquareUpperTail(x, dof)).toBeCloseTo(alpha, 4);
  });

  // [dof, [[x, Q(dof/2, x/2)], …]] from mpmath (see top). The x values straddle the switch from
  // series to continued fraction at x = dof + 2 and reach far into the tail.
  const grid: [number, [number, number][]][] = [
    [
      1,
      [
        [0.001, 0.9747728793699604],
        [0.5, 0.4795001221869535],
        [1, 0.3173105078629141],
        [2.999, 0.08331592724224982],
        [3, 0.0832645166635504],
        [60, 9.485737571073848e-15],
        [300, 3.294362383314041e-67],
      ],
    ],
    [
      2,
      [
        [0.001, 0.9995001249791693],
        [0.5, 0.7788007830714049],
        [2, 0.36787944117144233],
        [3.999, 0.13540296779796124],
        [4, 0.1353352832366127],
        [6, 0.049787068367863944],
        [60, 9.357622968840175e-14],
        [300, 7.175095973164411e-66],
      ],
    ],
    [
      3,
      [
        [0.001, 0.9999915920809419],
        [0.5, 0.9188914116546758],
        [3, 0.39162517627108895],
        [4.999, 0.17187038385623396],
        [5, 0.17179714429673312],
        [9, 0.029290886534888233],
        [60, 5.878230727906912e-13],
        [300, 9.94875834632771e-65],
      ],
    ],
    [
      4,
      [
        [0.001, 0.9999998750416589],
        [0.5, 0.9735009788392561],
        [4, 0.40600584970983805],
        [5.999, 0.19922296652181185],
        [6, 0.19914827347145578],
        [12, 0.01735126523666451],
        [60, 2.900863120340454e-12],
        [300, 1.083439491947826e-63],
      ],
    ],
    [
      5,
      [
        [0.001, 0.9999999983185123],
        [0.5, 0.9921232932326296],
        [5, 0.41588018699550794],
        [6.999, 0.22071468982953008],
        [7, 0.2206403079367108],
        [15, 0.010362337915786437],
        [60, 1.215456977718304e-11],
        [300, 1.0015302305957845e-62],
      ],
    ],
    [
      7,
      [
        [0.001, 0.9999999999997597],
        [0.5, 0.9994464813904249],
        [7, 0.42887985755305474],
        [8.999, 0.25272785041838586],
        [9, 0.2526560464965638],
        [21, 0.0037701500511461666],
        [60, 1.509555302298912e-10],
        [300, 6.0496418565563194e-61],
      ],
    ],
    [
      10,
      [
        [0.001, 1.0],
        [0.5, 0.999993388289439],
        [10, 0.4404932850652124],
        [11.999, 0.2851234322025935],
        [12, 0.2850565003166312],
        [30, 0.0008566412107753004],
        [60, 3.6243009520614882e-9],
        [300, 1.5546747543803181e-58],
      ],
    ],
    [
      15,
      [
        [0.001, 1.0],
        [0.5, 0.9999999982553599],
        [15, 0.45141721122572526],
        [16.999, 0.31892418913415227],
        [17, 0.3188644054523147],
        [45, 7.65726565497849e-5],
        [60, 2.5220850786961436e-7],
        [300, 5.589749323124671e-55],
      ],
    ],
    [
      19,
      [
        [0.001, 1.0],
        [0.5, 0.9999999999986573],
        [19, 0.4568361255919624],
        [20.999, 0.3368561598641766],
        [21, 0.3368009019275336],
        [57, 1.1426193493546637e-5],
        [60, 3.8698263006641804e-6],
        [300, 2.0005232442947652e-52],
      ],
    ],
    [
      20,
      [
        [0.001, 1.0],
        [0.5, 0.9999999999997906],
        [20, 0.4579297144718522],
        [21.999, 0.3405649076867056],
        [22, 0.34051064246566104],
        [60, 7.121750862815577e-6],
        [300, 8.08284962977591e-52],
      ],
    ],
  ];

  it.each(grid)('matches mpmath to 1e-12 relative for dof %d', (dof, points) => {
    const outliers = points
      .map(([x, expected]) => ({ x, expected, actual: chiSquareUpperTail(x, dof) }))
      .filter(({ expected, actual }) => !(Math.abs(actual - expected) <= 1e-12 * expected));
    expect(outliers).toEqual([]);
  });

  it('matches the closed form for even dof, Q = e^(−x/2) Σ_{j<dof/2} (x/2)^j / j!', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: 400, noNaN: true }),
        (half, x) => {
          let term = 1;
          let sum = 1;
          for (let j = 1; j < half; j++) {
            term *= x / 2 / j;
            sum += term;
          }
          const expected = Math.exp(-x / 2) * sum;
          const actual = chiSquareUpperTail(x, 2 * half);
          expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12 * expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('sample ratio mismatch properties', () => {
  const counts = fc.array(fc.nat({ max: 1_000_000 }), { minLength: 2, maxLength: 20 });

  it('gives a p-value in [0, 1] and flags exactly when it is below SRM_ALPHA', () => {
    fc.assert(
      fc.property(counts, (c) => {
        const check = sampleRatioMismatch(c);
        expect(check.pValue).toBeGreaterThanOrEqual(0);
        expect(check.pValue).toBeLessThanOrEqual(1);
        expect(check.chiSquare).toBeGreaterThanOrEqual(0);
        expect(check.mismatch).toBe(check.pValue < SRM_ALPHA);
      }),
      { numRuns: 2000 },
    );
  });

  it('never flags an equal split, however far it is scaled', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 100 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (k, perBucket) => {
          const check = sampleRatioMismatch(new Array<number>(k).fill(perBucket));
          expect(check.chiSquare).toBe(0);
          expect(check.pValue).toBe(1);
          expect(check.mismatch).toBe(false);
        },
      ),
    );
  });

  it('never flags the most even split of any total (remainder spread one per bucket)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 100 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (k, total) => {
          const base = Math.floor(total / k);
          const split = Array.from({ length: k }, (_, i) => base + (i < total % k ? 1 : 0));
          expect(sampleRatioMismatch(split).mismatch).toBe(false);
        },
      ),
    );
  });

  it('gives a p-value that never rises when the same imbalance is scaled up', () => {
    fc.assert(
      fc.property(counts, fc.integer({ min: 2, max: 1000 }), (c, factor) => {
        const base = sampleRatioMismatch(c);
        const scaled = sampleRatioMismatch(c.map((n) => n * factor));
        expect(scaled.pValue).toBeLessThanOrEqual(base.pValue * (1 + 1e-12));
      }),
      { numRuns: 1000 },
    );
  });
});
