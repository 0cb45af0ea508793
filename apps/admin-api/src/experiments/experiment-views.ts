import type { ExperimentView, RevisionView } from '@assigner/contracts';
import type { ExperimentRevision, StoredExperiment } from '@assigner/persistence';

export const experimentView = (name: string, stored: StoredExperiment): ExperimentView => ({
  name,
  revision: stored.revision,
  archived: stored.archived,
  updatedAt: stored.updatedAt.toISOString(),
  updatedBy: stored.updatedBy,
  definition: stored.experiment,
});

/** The answer to a write: what happened, the definition's warnings, and the experiment now. */
export interface WriteAnswer extends ExperimentView {
  outcome: 'created' | 'updated' | 'unchanged' | 'archived' | 'restored';
  warnings: string[];
}

export const revisionView = (revision: ExperimentRevision): RevisionView => ({
  revision: revision.revision,
  action: revision.action,
  actor: revision.actor,
  at: revision.at.toISOString(),
  before: revision.before && {
    archived: revision.before.archived,
    definition: revision.before.experiment,
  },
  after: { archived: revision.after.archived, definition: revision.after.experiment },
});
