import { LearnerAttributesRepository } from '@assigner/persistence';
import { basename } from 'node:path';
import { storeConfig, withStore } from '../io/cli-config';
import { CLI_ACTOR } from './experiments.command';
import { loadLmsUserExport } from './simulate.command';

/**
 * `assigner learners import -f FILE`: validates the whole export first, so a bad one changes
 * nothing, then makes it the store's list of staff and superusers; prints what changed.
 */
export async function importLearnerAttributes(file: string): Promise<void> {
  const learners = loadLmsUserExport(file);
  const recorded = await withStore(storeConfig(), (db) =>
    new LearnerAttributesRepository(db).replaceAll(learners, {
      actor: CLI_ACTOR,
      source: basename(file),
    }),
  );
  process.stdout.write(`${JSON.stringify(recorded)}\n`);
}

/** `assigner learners imports`: the audit trail of exports loaded, newest first. */
export async function listAttributeImports(): Promise<void> {
  const history = await withStore(storeConfig(), (db) =>
    new LearnerAttributesRepository(db).history(),
  );
  for (const entry of history) process.stdout.write(`${JSON.stringify(entry)}\n`);
}
