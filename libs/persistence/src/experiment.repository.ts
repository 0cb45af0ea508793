import { validateExperiment } from '@assigner/contracts';
import { namespacedName, type Experiment } from '@assigner/domain';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './mongo-errors';

/**
 * Stored definitions keep their canonical JSON as text: course keys and key-value names may hold
 * dots or "$", which MongoDB-wire stores treat badly as field names.
 */
interface ExperimentDocument {
  _id: string;
  namespace: string;
  name: string;
  definition: string;
  revision: number;
  updatedAt: Date;
}

export interface StoredExperiment {
  experiment: Experiment;
  /** 1 when created, +1 per change: the basis for optimistic concurrency. */
  revision: number;
  updatedAt: Date;
}

export type SaveOutcome = 'created' | 'updated' | 'unchanged';

const MAX_ATTEMPTS = 5;

export class ExperimentRepository {
  static readonly COLLECTION = 'experiments';
  private readonly collection: Collection<ExperimentDocument>;

  constructor(db: Db) {
    this.collection = db.collection<ExperimentDocument>(ExperimentRepository.COLLECTION);
  }

  async list(): Promise<StoredExperiment[]> {
    const documents = await this.collection.find().sort({ _id: 1 }).toArray();
    return documents.map((document) => this.toStored(document));
  }

  async get(name: string): Promise<StoredExperiment | undefined> {
    const document = await this.collection.findOne({ _id: name });
    return document ? this.toStored(document) : undefined;
  }

  /**
   * Creates or replaces one definition; an identical one is left alone (its revision stays).
   * Concurrent writers are resolved by the revision: a lost race reads again and retries.
   */
  async save(
    experiment: Experiment,
    now = new Date(),
  ): Promise<{ outcome: SaveOutcome; revision: number }> {
    const _id = namespacedName(experiment);
    const definition = JSON.stringify(experiment);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.collection.findOne({ _id });
      if (current?.definition === definition)
        return { outcome: 'unchanged', revision: current.revision };
      if (!current) {
        try {
          await this.collection.insertOne({
            _id,
            namespace: experiment.namespace,
            name: experiment.name,
            definition,
            revision: 1,
            updatedAt: now,
          });
          return { outcome: 'created', revision: 1 };
        } catch (error) {
          if (isDuplicateKey(error)) continue;
          throw error;
        }
      }
      const revision = current.revision + 1;
      const result = await this.collection.updateOne(
        { _id, revision: current.revision },
        { $set: { definition, revision, updatedAt: now } },
      );
      if (result.matchedCount === 1) return { outcome: 'updated', revision };
    }
    throw new Error(`experiment ${_id} kept changing under this write; try again`);
  }

  private toStored(document: ExperimentDocument): StoredExperiment {
    const result = validateExperiment(JSON.parse(document.definition) as unknown, document._id);
    if (!result.ok)
      throw new Error(
        `stored experiment ${document._id} is invalid: ${result.problems.join('; ')}`,
      );
    return { experiment: result.value, revision: document.revision, updatedAt: document.updatedAt };
  }
}
