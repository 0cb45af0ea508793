import { problemsOfExperimentSet, withBucketVersionStarts } from '@assigner/contracts';
import { namespacedName } from '@assigner/domain';
import { ExperimentRepository } from '@assigner/persistence';
import { storeConfig, withStore } from '../io/cli-config';
import { UsageError } from '../usage-error';
import { loadExperimentsFile } from './simulate.command';

/** Who the audit trail names for changes made with this command. */
export const CLI_ACTOR = `cli:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`;

/** Runs `work` against the configured store (MONGO_URL, MONGO_DB). */
const withRepository = <T>(work: (repository: ExperimentRepository) => Promise<T>): Promise<T> =>
  withStore(storeConfig(), (db) => work(new ExperimentRepository(db)));

/**
 * `assigner experiments apply -f FILE`: validates the whole file first, so a bad file changes
 * nothing, then stores each definition; prints what happened to each.
 */
export async function applyExperiments(file: string): Promise<void> {
  const loaded = loadExperimentsFile(file);
  for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
  await withRepository(async (repository) => {
    const stored = await repository.list();
    const byName = new Map(
      stored.map(({ experiment }) => [namespacedName(experiment), experiment]),
    );
    const now = new Date();
    const experiments = loaded.experiments.map((experiment) =>
      withBucketVersionStarts(experiment, byName.get(namespacedName(experiment)), now),
    );
    // Holdouts and layers are shared with the stored experiments the file leaves as they are.
    const named = new Set(experiments.map(namespacedName));
    const kept = stored
      .filter(({ archived, experiment }) => !archived && !named.has(namespacedName(experiment)))
      .map(({ experiment }) => experiment);
    const problems = problemsOfExperimentSet([...kept, ...experiments]);
    if (problems.length > 0)
      throw new UsageError([
        `experiments file ${file} does not fit the stored experiments:`,
        ...problems.map((p) => `  ${p}`),
      ]);
    for (const experiment of experiments) {
      const result = await repository.save(experiment, { actor: CLI_ACTOR });
      // Without an expected revision a save retries lost races, so it always lands.
      if (!('stored' in result)) throw new Error(`could not save ${namespacedName(experiment)}`);
      const { revision, archived } = result.stored;
      process.stdout.write(
        `${result.outcome} ${namespacedName(experiment)} (revision ${revision}${archived ? ', archived' : ''})\n`,
      );
    }
  });
}

/** `assigner experiments list`: every stored definition, as an experiments file. */
export async function listExperiments(): Promise<void> {
  const stored = await withRepository((repository) => repository.list());
  process.stdout.write(
    `${JSON.stringify({ experiments: stored.map((item) => item.experiment) }, null, 2)}\n`,
  );
}

/** `assigner experiments get NAME`: one stored definition with its revision. */
export async function getExperiment(name: string): Promise<void> {
  const stored = await withRepository((repository) => repository.get(name));
  if (!stored) throw new Error(`no experiment named ${name}`);
  process.stdout.write(
    `${JSON.stringify({ ...stored.experiment, revision: stored.revision, archived: stored.archived, updatedAt: stored.updatedAt }, null, 2)}\n`,
  );
}
