import { hashShareOf } from '../bucketing/hash-share';
import { namespacedName, type Experiment, type LayerSlot } from '../experiment/experiment';

/** Why a learner may or may not be decided for an experiment of a layer. */
export type LayerVerdict =
  /** In the experiment's share of the layer, holding no other experiment of it. */
  | 'in_range'
  /** Already assigned in this experiment: allocation changes never move them out. */
  | 'already_assigned'
  /** Outside the experiment's share, or assigned in another experiment of the layer. */
  | 'outside'
  | 'other_experiment';

export interface LayerCheck {
  layer: string;
  range: readonly [number, number];
  /** The learner's place in the layer's hash, [0, 100). */
  share: number;
  verdict: LayerVerdict;
  /** The layer's experiment the learner is assigned in, when another. */
  heldBy?: string;
}

/**
 * A learner's eligibility for an experiment of a layer: sticky (one assigned in it stays
 * eligible whatever the ranges become), exclusive (one assigned in another experiment of the
 * layer is not), and otherwise their share of the layer's hash must fall in the experiment's.
 */
export function checkLayer(
  experiment: Pick<Experiment, 'namespace' | 'name'> & { layer: LayerSlot },
  username: string,
  /** Per layer, the experiment of it the learner holds assignments in. */
  heldLayers: ReadonlyMap<string, string>,
): LayerCheck {
  const { name, range } = experiment.layer;
  const share = hashShareOf('layer', name, username);
  const held = heldLayers.get(name);
  const own = namespacedName(experiment);
  const verdict: LayerVerdict =
    held === own
      ? 'already_assigned'
      : held !== undefined
        ? 'other_experiment'
        : share >= range[0] && share < range[1]
          ? 'in_range'
          : 'outside';
  return { layer: name, range, share, verdict, ...(held && held !== own ? { heldBy: held } : {}) };
}

export const layerAdmits = (check: LayerCheck): boolean =>
  check.verdict === 'in_range' || check.verdict === 'already_assigned';

/** Whether two `[start, end)` shares overlap. */
export const rangesOverlap = (
  a: readonly [number, number],
  b: readonly [number, number],
): boolean => a[0] < b[1] && b[0] < a[1];
