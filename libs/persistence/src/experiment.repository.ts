import { validateExperiment, type ExperimentAction } from '@assigner/contracts';
import { namespacedName, type Experiment } from '@assigner/domain';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './mongo-errors';

/**
 * The current revision of one experiment, as workers read it. Definitions are kept as their
 * canonical JSON text: course keys and key-value names may hold dots or "$", which MongoDB-wire
 * stores treat badly as field names.
 */
interface ExperimentDocument {
  _id: string;
  namespace: string;
  name: string;
  definition: string;
  revision: number;
  archived: boolean;
  updatedAt: Date;
  updatedBy: string | null;
}

/**
 * One change of one experiment, inserted once and never changed: the audit trail, and the
 * compare-and-set of writes. Its `_id` (`<name>#<revision>`) is unique, which every MongoDB-wire
 * store enforces, so of two writers of the same next revision exactly one succeeds (FerretDB 1.x
 * does not make a conditional update atomic under concurrency).
 */
interface RevisionDocument {
  _id: string;
  experiment: string;
  revision: number;
  action: ExperimentAction;
  actor: string;
  at: Date;
  before: string | null;
  beforeArchived: boolean | null;
  definition: string;
  archived: boolean;
}

export interface StoredExperiment {
  experiment: Experiment;
  /** 1 when created, +1 per change: the basis for optimistic concurrency. */
  revision: number;
  /** Archived experiments decide nothing; their assignments are kept. */
  archived: boolean;
  updatedAt: Date;
  /** Who made the latest change (a token name, or "cli" and the OS user); null before audits. */
  updatedBy: string | null;
}

export interface ExperimentRevision {
  revision: number;
  action: ExperimentAction;
  actor: string;
  at: Date;
  before: { experiment: Experiment; archived: boolean } | null;
  after: { experiment: Experiment; archived: boolean };
}

export interface WriteContext {
  actor: string;
  now?: Date;
  /** The revision the writer last read, or "absent" to create only: anything else is a conflict. */
  expected?: number | 'absent';
}

export type WriteResult =
  | {
      outcome: 'created' | 'updated' | 'unchanged' | 'archived' | 'restored';
      stored: StoredExperiment;
    }
  | { outcome: 'conflict'; current: StoredExperiment | undefined }
  | { outcome: 'not_found' };

type Content = { experiment: Experiment; archived: boolean };

const MAX_ATTEMPTS = 5;

export class ExperimentRepository {
  static readonly COLLECTION = 'experiments';
  static readonly HISTORY = 'experiment_history';
  private readonly collection: Collection<ExperimentDocument>;
  private readonly revisions: Collection<RevisionDocument>;

  constructor(private readonly db: Db) {
    this.collection = db.collection<ExperimentDocument>(ExperimentRepository.COLLECTION);
    this.revisions = db.collection<RevisionDocument>(ExperimentRepository.HISTORY);
  }

  /** For an experiment's history, oldest first. */
  async ensureIndexes(): Promise<void> {
    await this.revisions.createIndex({ experiment: 1, revision: 1 });
  }

  /** Every experiment's current revision, archived ones included, by name. */
  async list(): Promise<StoredExperiment[]> {
    const documents = await this.collection.find().sort({ _id: 1 }).toArray();
    return documents.map((document) => storedOf(document));
  }

  /** The latest revision of one experiment: read from its history, which a write extends first. */
  async get(name: string): Promise<StoredExperiment | undefined> {
    const latest = await this.latestRevision(name);
    if (latest) return storedOfRevision(latest);
    // Experiments stored before histories were kept have only their current document.
    const document = await this.collection.findOne({ _id: name });
    return document ? storedOf(document) : undefined;
  }

  /** Every recorded change of one experiment, oldest first. */
  async history(name: string): Promise<ExperimentRevision[]> {
    const documents = await this.revisions
      .find({ experiment: name })
      .sort({ revision: 1 })
      .toArray();
    return documents.map((document) => ({
      revision: document.revision,
      action: document.action,
      actor: document.actor,
      at: document.at,
      before:
        document.before === null
          ? null
          : {
              experiment: parseDefinition(document.before, document._id),
              archived: document.beforeArchived ?? false,
            },
      after: {
        experiment: parseDefinition(document.definition, document._id),
        archived: document.archived,
      },
    }));
  }

  /** Creates or replaces a definition, keeping its archived state; an identical one is left alone. */
  save(experiment: Experiment, context: WriteContext): Promise<WriteResult> {
    return this.write(namespacedName(experiment), context, (current) => ({
      experiment,
      archived: current?.archived ?? false,
    }));
  }

  /** Stops an experiment deciding anything; its definition and assignments are kept. */
  archive(name: string, context: WriteContext): Promise<WriteResult> {
    return this.write(name, context, (current) => current && { ...current, archived: true });
  }

  restore(name: string, context: WriteContext): Promise<WriteResult> {
    return this.write(name, context, (current) => current && { ...current, archived: false });
  }

  /**
   * Writes the next revision that `change` makes of the current one: first to the history (the
   * compare-and-set), then to the current copy. Without an expected revision a lost race reads
   * again and retries; with one, it is a conflict.
   */
  private async write(
    name: string,
    context: WriteContext,
    change: (current: StoredExperiment | undefined) => Content | undefined,
  ): Promise<WriteResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.get(name);
      if (!matchesExpected(current, context.expected)) return { outcome: 'conflict', current };
      const next = change(current);
      if (!next) return { outcome: 'not_found' };
      const definition = JSON.stringify(next.experiment);
      if (
        current &&
        JSON.stringify(current.experiment) === definition &&
        current.archived === next.archived
      ) {
        await this.syncCurrent(name);
        return { outcome: 'unchanged', stored: current };
      }
      const action: ExperimentAction = !current
        ? 'created'
        : current.archived !== next.archived
          ? next.archived
            ? 'archived'
            : 'restored'
          : 'updated';
      const revision: RevisionDocument = {
        _id: `${name}#${(current?.revision ?? 0) + 1}`,
        experiment: name,
        revision: (current?.revision ?? 0) + 1,
        action,
        actor: context.actor,
        at: context.now ?? new Date(),
        before: current ? JSON.stringify(current.experiment) : null,
        beforeArchived: current ? current.archived : null,
        definition,
        archived: next.archived,
      };
      try {
        await this.revisions.insertOne(revision);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        if (context.expected !== undefined)
          return { outcome: 'conflict', current: await this.get(name) };
        continue;
      }
      await this.syncCurrent(name);
      return { outcome: action, stored: storedOfRevision(revision) };
    }
    throw new Error(`experiment ${name} kept changing under this write; try again`);
  }

  /**
   * Brings the current copy up to the latest revision. Each writer checks after its own copy
   * write, so the last check of all sees every revision inserted before it and repairs a stale
   * copy left by a slower writer or by a crash between the two writes.
   */
  private async syncCurrent(name: string): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const latest = await this.latestRevision(name);
      if (!latest) return;
      const copy = await this.collection.findOne({ _id: name });
      if (copy && copy.revision >= latest.revision) return;
      const { experiment } = storedOfRevision(latest);
      try {
        await this.collection.replaceOne(
          { _id: name },
          {
            namespace: experiment.namespace,
            name: experiment.name,
            definition: latest.definition,
            revision: latest.revision,
            archived: latest.archived,
            updatedAt: latest.at,
            updatedBy: latest.actor,
          },
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    }
  }

  private async latestRevision(name: string): Promise<RevisionDocument | undefined> {
    const [latest] = await this.revisions
      .find({ experiment: name })
      .sort({ revision: -1 })
      .limit(1)
      .toArray();
    return latest;
  }
}

function matchesExpected(
  current: StoredExperiment | undefined,
  expected: WriteContext['expected'],
): boolean {
  if (expected === undefined) return true;
  if (expected === 'absent') return current === undefined;
  return current?.revision === expected;
}

function parseDefinition(definition: string, id: string): Experiment {
  const result = validateExperiment(JSON.parse(definition) as unknown, id);
  if (!result.ok)
    throw new Error(`stored experiment ${id} is invalid: ${result.problems.join('; ')}`);
  return result.value;
}

function storedOf(document: ExperimentDocument): StoredExperiment {
  return {
    experiment: parseDefinition(document.definition, document._id),
    revision: document.revision,
    archived: document.archived ?? false,
    updatedAt: document.updatedAt,
    updatedBy: document.updatedBy ?? null,
  };
}

function storedOfRevision(document: RevisionDocument): StoredExperiment {
  return {
    experiment: parseDefinition(document.definition, document._id),
    revision: document.revision,
    archived: document.archived,
    updatedAt: document.at,
    updatedBy: document.actor,
  };
}
