/** Below this p-value the split is flagged: the usual SRM threshold, strict enough that a healthy
 * experiment checked daily is rarely flagged by chance. */
export const SRM_ALPHA = 0.001;

export interface SampleRatioCheck {
  buckets: number;
  total: number;
  expectedPerBucket: number;
  chiSquare: number;
  degreesOfFreedom: number;
  /** Probability of a statistic at least this large under an equal split. */
  pValue: number;
  /** `pValue < SRM_ALPHA`. */
  mismatch: boolean;
}

/**
 * Chi-square goodness-of-fit test of bucket counts against an equal split (the sample-ratio-
 * mismatch check). `counts[i]` is the number of assignments in bucket i; its length is the
 * experiment's bucket count, empty buckets included as zeros.
 *
 * - fewer than 2 buckets, or a count that is not a non-negative safe integer: `RangeError`;
 * - no assignments at all: nothing to judge, so `chiSquare` 0, `pValue` 1, no mismatch.
 */
export function sampleRatioMismatch(counts: readonly number[]): SampleRatioCheck {
  const buckets = counts.length;
  if (buckets < 2) {
    throw new RangeError(`sample ratio check needs at least 2 buckets, got ${buckets}`);
  }
  let total = 0;
  counts.forEach((count, bucket) => {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(
        `bucket ${bucket} count must be a non-negative integer, got ${String(count)}`,
      );
    }
    total += count;
  });
  if (!Number.isSafeInteger(total)) {
    throw new RangeError(`total count ${total} is too large to sum exactly`);
  }
  const degreesOfFreedom = buckets - 1;
  const expectedPerBucket = total / buckets;
  if (total === 0) {
    return {
      buckets,
      total,
      expectedPerBucket,
      chiSquare: 0,
      degreesOfFreedom,
      pValue: 1,
      mismatch: false,
    };
  }
  // Σ (o − e)² / e summed directly: the shortcut Σ o²/e − N cancels badly for large balanced N.
  let chiSquare = 0;
  for (const count of counts) {
    const diff = count - expectedPerBucket;
    chiSquare += (diff * diff) / expectedPerBucket;
  }
  const pValue = chiSquareUpperTail(chiSquare, degreesOfFreedom);
  return {
    buckets,
    total,
    expectedPerBucket,
    chiSquare,
    degreesOfFreedom,
    pValue,
    mismatch: pValue < SRM_ALPHA,
  };
}

/** P(X ≥ x) for X chi-square distributed with `dof` degrees of freedom: Q(dof/2, x/2). */
export function chiSquareUpperTail(x: number, dof: number): number {
  if (!(dof > 0) || Number.isNaN(x)) {
    throw new RangeError(`chi-square tail needs dof > 0 and a number x, got dof ${dof}, x ${x}`);
  }
  return regularizedUpperGamma(dof / 2, x / 2);
}

// Own implementation rather than a dependency: the domain library has no runtime dependencies,
// and the npm options are either a large transitive tree (@stdlib's gamma CDF pulls in dozens of
// packages) or give only the CDF, whose 1 − CDF loses all precision in the small p-values that
// matter here. The classic method below (Numerical Recipes §6.2) is checked against mpmath/SciPy
// in the unit tests to 1e-12 relative for dof 1..20 and statistics up to several hundred.

const EPSILON = Number.EPSILON;
const MAX_ITERATIONS = 10_000;
// Smallest magnitude kept in Lentz's algorithm, to avoid dividing by zero.
const TINY = 1e-300;

/** Q(a, x) = Γ(a, x) / Γ(a), a > 0. */
function regularizedUpperGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  // The series converges fast below a + 1, where Q is not tiny, so 1 − P loses nothing; above,
  // the continued fraction gives Q directly and keeps its relative precision far into the tail.
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaContinuedFraction(a, x);
}

/** e^{−x} x^a / Γ(a), the factor shared by both expansions, in logs so it cannot overflow. */
function gammaPrefactor(a: number, x: number): number {
  return Math.exp(a * Math.log(x) - x - logGamma(a));
}

/** P(a, x) by the series Σ x^n / (a (a+1) … (a+n)). */
function lowerGammaSeries(a: number, x: number): number {
  let denominator = a;
  let term = 1 / a;
  let sum = term;
  for (let n = 0; n < MAX_ITERATIONS; n++) {
    denominator += 1;
    term *= x / denominator;
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) return sum * gammaPrefactor(a, x);
  }
  throw new Error(`incomplete gamma series did not converge for a=${a}, x=${x}`);
}

/** Q(a, x) by its continued fraction, evaluated with the modified Lentz method. */
function upperGammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let fraction = d;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    fraction *= delta;
    if (Math.abs(delta - 1) < EPSILON) return fraction * gammaPrefactor(a, x);
  }
  throw new Error(`incomplete gamma continued fraction did not converge for a=${a}, x=${x}`);
}

// Lanczos approximation, g = 7, n = 9 (the widely used Godfrey coefficients): ~1e-15 relative
// for real arguments ≥ 0.5, which covers every a = dof / 2 here.
const LANCZOS_G = 7;
const LANCZOS_C0 = 0.99999999999980993;
const LANCZOS_COEFFICIENTS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(z) for z ≥ 0.5. */
function logGamma(z: number): number {
  const shifted = z - 1;
  let series = LANCZOS_C0;
  LANCZOS_COEFFICIENTS.forEach((coefficient, i) => {
    series += coefficient / (shifted + i + 1);
  });
  const t = shifted + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (shifted + 0.5) * Math.log(t) - t + Math.log(series);
}
