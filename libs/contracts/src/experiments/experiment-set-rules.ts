import { namespacedName, rangesOverlap, type Experiment } from '@assigner/domain';

/**
 * What makes experiments wrong together, though each is valid alone: a holdout given two
 * percents, a holdout named like an experiment (its membership is reported under its name), two
 * experiments of a layer owning overlapping shares. Each problem names the experiments.
 */
export function problemsOfExperimentSet(experiments: readonly Experiment[]): string[] {
  const problems: string[] = [];
  const names = new Set(experiments.map(namespacedName));
  const holdouts = new Map<string, { percent: number; by: string }>();
  const layers = new Map<string, { range: readonly [number, number]; by: string }[]>();
  for (const experiment of experiments) {
    const name = namespacedName(experiment);
    const { holdout, layer } = experiment;
    if (holdout) {
      const first = holdouts.get(holdout.name);
      if (names.has(holdout.name))
        problems.push(`${name}.holdout.name: ${holdout.name} is an experiment's name`);
      if (first && first.percent !== holdout.percent)
        problems.push(
          `${name}.holdout.percent: holdout ${holdout.name} is ${first.percent}% in ${first.by}, not ${holdout.percent}%`,
        );
      if (!first) holdouts.set(holdout.name, { percent: holdout.percent, by: name });
    }
    if (layer) {
      const owners = layers.get(layer.name) ?? [];
      for (const other of owners)
        if (rangesOverlap(other.range, layer.range))
          problems.push(
            `${name}.layer.range: [${layer.range.join(', ')}) overlaps ${other.by}'s [${other.range.join(', ')}) in layer ${layer.name}`,
          );
      owners.push({ range: layer.range, by: name });
      layers.set(layer.name, owners);
    }
  }
  return problems;
}
