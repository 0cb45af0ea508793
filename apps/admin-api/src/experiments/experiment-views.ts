import type { Experiment } from '@assigner/domain';
import type { ExperimentRevision, StoredExperiment } from '@assigner/persistence';

/** An experiment as the API shows it: its definition (the shape `experiments apply` takes) and its state. */
export interface ExperimentView {
  name: string;
  revision: number;
  archived: boolean;
  updatedAt: string;
  updatedBy: string | null;
  definition: Experiment;
}

export const experimentView = (name: string, stored: StoredExperiment): ExperimentView => ({
  name,
  revision: stored.revision,
  archived: stored.archived,
  updatedAt: stored.updatedAt.toISOString(),
  updatedBy: stored.updatedBy,
  definition: stored.experiment,
});

export interface RevisionView {
  revision: number;
  action: ExperimentRevision['action'];
  actor: string;
  at: string;
  before: { archived: boolean; definition: Experiment } | null;
  after: { archived: boolean; definition: Experiment };
}

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
