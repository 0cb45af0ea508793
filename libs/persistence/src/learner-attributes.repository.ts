import type { LearnerAttributes } from '@assigner/domain';
import type { Collection, Db } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { inParallel } from './in-parallel';
import { retryTransient } from './mongo-errors';

/** One load of an LMS export: who loaded what, and what it changed (the audit trail). */
export interface AttributeImport {
  id: string;
  at: Date;
  /** The admin token's name, or `cli:<user>`. */
  actor: string;
  /** The file loaded (CLI), or `api`. */
  source: string;
  learners: number;
  staff: number;
  superusers: number;
  added: number;
  changed: number;
  removed: number;
}

/** A learner's attributes with the import that set them: where explain says they came from. */
export interface SourcedAttributes {
  attributes: LearnerAttributes;
  setBy: AttributeImport | null;
}

interface AttributesDocument {
  _id: number;
  isStaff: boolean;
  isSuperuser: boolean;
  importId: string;
}

interface ImportDocument extends Omit<AttributeImport, 'id'> {
  _id: string;
}

const importOf = ({ _id, ...rest }: ImportDocument): AttributeImport => ({ id: _id, ...rest });
const same = (a: LearnerAttributes, b: LearnerAttributes) =>
  a.isStaff === b.isStaff && a.isSuperuser === b.isSuperuser;

/**
 * Which learners are staff or superusers, as the last LMS export loaded says
 * (`learner_attributes`, one document per such learner), and every load
 * (`learner_attribute_imports`). An export is the whole list: learners it leaves out lose
 * their attributes.
 */
export class LearnerAttributesRepository {
  private readonly attributes: Collection<AttributesDocument>;
  private readonly imports: Collection<ImportDocument>;

  constructor(db: Db) {
    this.attributes = db.collection('learner_attributes');
    this.imports = db.collection('learner_attribute_imports');
  }

  /**
   * Makes the stored attributes those of `learners`: the import is recorded first, then each
   * learner whose attributes change is written (with the import's id), then those left out are
   * removed. Not atomic: a worker refreshing meanwhile may see part of the change, and the next
   * refresh the whole.
   */
  async replaceAll(
    learners: readonly LearnerAttributes[],
    origin: { actor: string; source: string },
  ): Promise<AttributeImport> {
    const current = new Map((await this.all()).map((learner) => [learner.userId, learner]));
    const wanted = learners.filter(({ isStaff, isSuperuser }) => isStaff || isSuperuser);
    const written = wanted.filter((learner) => {
      const known = current.get(learner.userId);
      return !known || !same(known, learner);
    });
    const kept = new Set(wanted.map(({ userId }) => userId));
    const removed = [...current.keys()].filter((userId) => !kept.has(userId));
    const record: ImportDocument = {
      _id: randomUUID(),
      at: new Date(),
      actor: origin.actor,
      source: origin.source,
      learners: wanted.length,
      staff: wanted.filter(({ isStaff }) => isStaff).length,
      superusers: wanted.filter(({ isSuperuser }) => isSuperuser).length,
      added: written.filter(({ userId }) => !current.has(userId)).length,
      changed: written.filter(({ userId }) => current.has(userId)).length,
      removed: removed.length,
    };
    await retryTransient(() => this.imports.insertOne(record));
    // One replace per command, a few at a time (see the README's FerretDB notes).
    await inParallel(written, 4, ({ userId, isStaff, isSuperuser }) =>
      retryTransient(() =>
        this.attributes.replaceOne(
          { _id: userId },
          { isStaff, isSuperuser, importId: record._id },
          { upsert: true },
        ),
      ),
    );
    if (removed.length > 0)
      await retryTransient(() => this.attributes.deleteMany({ _id: { $in: removed } }));
    return importOf(record);
  }

  async all(): Promise<LearnerAttributes[]> {
    const documents = await retryTransient(() => this.attributes.find().toArray());
    return documents.map(({ _id, isStaff, isSuperuser }) => ({
      userId: _id,
      isStaff,
      isSuperuser,
    }));
  }

  /** One learner's attributes and the import that set them; null when the export named them not. */
  async of(userId: number): Promise<SourcedAttributes | null> {
    const document = await retryTransient(() => this.attributes.findOne({ _id: userId }));
    if (!document) return null;
    const setBy = await retryTransient(() => this.imports.findOne({ _id: document.importId }));
    return {
      attributes: { userId, isStaff: document.isStaff, isSuperuser: document.isSuperuser },
      setBy: setBy && importOf(setBy),
    };
  }

  /** Every import, newest first. */
  async history(): Promise<AttributeImport[]> {
    const documents = await retryTransient(() => this.imports.find().toArray());
    return documents.map(importOf).sort((a, b) => b.at.getTime() - a.at.getTime());
  }

  /** The newest import's id: what a reader compares to know whether to read everything again. */
  async latestImportId(): Promise<string | null> {
    return (await this.history())[0]?.id ?? null;
  }
}
