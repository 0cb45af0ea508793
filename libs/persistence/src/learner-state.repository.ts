import {
  assignmentKey,
  emptyUserState,
  type AssignmentRecord,
  type BucketChange,
  type UserState,
} from '@assigner/domain';
import {
  MongoBulkWriteError,
  type Collection,
  type Db,
  type Filter,
  type OptionalUnlessRequiredId,
  type UpdateFilter,
} from 'mongodb';
import { retryTransient } from './mongo-errors';

interface LearnerDocument {
  _id: number;
  username: string;
  usernameAt: number;
}

interface EnrollmentDocument {
  _id: string;
  userId: number;
  courseId: string;
  createdAt: number;
  mode?: string;
  active?: boolean;
}

/** Field names never hold data (course keys have dots): positions are a list, not a map. */
export interface AssignmentDocument extends Omit<AssignmentRecord, 'positions'> {
  _id: string;
  positions: { source: string; offset: number }[];
  /** Compare-and-set counter: every write of the document adds one. */
  rev: number;
}

/** A document to insert if it is new to this writer, else (or if it turns out to exist) to update. */
interface Upsert<T> {
  isNew: boolean;
  document: T;
  filter: Filter<T>;
  update: UpdateFilter<T>;
}

/** What was loaded, to tell afterwards what changed and to write with compare-and-set. */
export interface LoadedStates {
  states: Map<number, UserState>;
  usernames: Map<number, string>;
  enrollments: Map<string, EnrollmentDocument>;
  revisions: Map<string, { rev: number; version: number }>;
}

export const assignmentId = (
  a: Pick<AssignmentRecord, 'experiment' | 'courseId' | 'userId'>,
): string => `${a.experiment}|${a.courseId ?? ''}|${a.userId}`;
const enrollmentId = (userId: number, courseId: string): string => `${userId}|${courseId}`;

export function toAssignmentDocument(
  assignment: AssignmentRecord,
  rev: number,
): AssignmentDocument {
  const { positions, history, ...rest } = assignment;
  return {
    _id: assignmentId(assignment),
    ...rest,
    // Optional fields are left out rather than stored as null, so documents read back equal.
    history: history.map(({ position, ...change }): BucketChange =>
      position ? { ...change, position } : change,
    ),
    positions: Object.entries(positions).map(([source, offset]) => ({ source, offset })),
    rev,
  };
}

export function fromAssignmentDocument(document: AssignmentDocument): AssignmentRecord {
  const { _id, rev, positions, ...rest } = document;
  void _id;
  void rev;
  return { ...rest, positions: Object.fromEntries(positions.map((p) => [p.source, p.offset])) };
}

/**
 * Learners' usernames, enrollments and assignments: everything a decision depends on. Writes are
 * single-document and safe to repeat; assignments are written with compare-and-set, and a lost
 * race is reported so that the caller re-applies that learner's events on fresh state.
 */
export class LearnerStateRepository {
  readonly learners: Collection<LearnerDocument>;
  readonly enrollments: Collection<EnrollmentDocument>;
  readonly assignments: Collection<AssignmentDocument>;

  constructor(db: Db) {
    this.learners = db.collection('learners');
    this.enrollments = db.collection('enrollments');
    this.assignments = db.collection('assignments');
  }

  async ensureIndexes(): Promise<void> {
    await this.enrollments.createIndex({ userId: 1 });
    await this.assignments.createIndex({ experiment: 1, courseId: 1, userId: 1 }, { unique: true });
    await this.assignments.createIndex({ userId: 1 });
  }

  async load(userIds: readonly number[]): Promise<LoadedStates> {
    const ids = [...new Set(userIds)];
    const [learners, enrollments, assignments] = await Promise.all([
      retryTransient(() => this.learners.find({ _id: { $in: ids } }).toArray()),
      retryTransient(() => this.enrollments.find({ userId: { $in: ids } }).toArray()),
      retryTransient(() => this.assignments.find({ userId: { $in: ids } }).toArray()),
    ]);
    const loaded: LoadedStates = {
      states: new Map(),
      usernames: new Map(),
      enrollments: new Map(),
      revisions: new Map(),
    };
    for (const id of ids) loaded.states.set(id, emptyUserState(id));
    for (const learner of learners) {
      const state = loaded.states.get(learner._id)!;
      state.username = learner.username;
      state.usernameAt = learner.usernameAt;
      loaded.usernames.set(learner._id, learner.username);
    }
    for (const enrollment of enrollments) {
      loaded.states.get(enrollment.userId)!.enrollments.set(enrollment.courseId, {
        createdAt: enrollment.createdAt,
        mode: enrollment.mode,
        active: enrollment.active,
      });
      loaded.enrollments.set(enrollment._id, enrollment);
    }
    for (const document of assignments) {
      const assignment = fromAssignmentDocument(document);
      loaded.states
        .get(document.userId)!
        .assignments.set(assignmentKey(assignment.experiment, assignment.courseId), assignment);
      loaded.revisions.set(document._id, { rev: document.rev, version: document.version });
    }
    return loaded;
  }

  /**
   * Writes what changed since load. New documents go in one unordered insert per collection (the
   * common case, and one store transaction on FerretDB); existing ones are updated one by one.
   * Resolves with the learners whose assignments another writer changed in between; their other
   * writes are done and harmless to repeat.
   */
  async save(loaded: LoadedStates): Promise<{ conflicts: number[] }> {
    const learners: Upsert<LearnerDocument>[] = [];
    const enrollments: Upsert<EnrollmentDocument>[] = [];
    const newAssignments: AssignmentDocument[] = [];
    const changedAssignments: { assignment: AssignmentRecord; rev: number }[] = [];

    for (const state of loaded.states.values()) {
      const { userId, username, usernameAt } = state;
      // Written when it changes only: updates are costly, and a sighting of the same name adds nothing.
      if (
        username !== undefined &&
        usernameAt !== undefined &&
        username !== loaded.usernames.get(userId)
      ) {
        learners.push({
          isNew: !loaded.usernames.has(userId),
          document: { _id: userId, username, usernameAt },
          // Only a newer sighting replaces a username, whatever order events arrive in.
          filter: { _id: userId, usernameAt: { $lt: usernameAt } },
          update: { $set: { username, usernameAt } },
        });
      }
      for (const [courseId, enrollment] of state.enrollments) {
        const _id = enrollmentId(userId, courseId);
        const before = loaded.enrollments.get(_id);
        const { createdAt, mode, active } = enrollment;
        if (
          before &&
          before.createdAt === createdAt &&
          before.mode === mode &&
          before.active === active
        )
          continue;
        const optional = {
          ...(mode === undefined ? {} : { mode }),
          ...(active === undefined ? {} : { active }),
        };
        enrollments.push({
          isNew: !before,
          document: { _id, userId, courseId, createdAt, ...optional },
          filter: { _id },
          // The earliest creation time wins, whatever order events arrive in.
          update: { $min: { createdAt }, $set: { userId, courseId, ...optional } },
        });
      }
      for (const assignment of state.assignments.values()) {
        const before = loaded.revisions.get(assignmentId(assignment));
        if (before?.version === assignment.version) continue;
        if (before) changedAssignments.push({ assignment, rev: before.rev });
        else newAssignments.push(toAssignmentDocument(assignment, 1));
      }
    }

    await this.upsertAll(this.learners, learners);
    await this.upsertAll(this.enrollments, enrollments);
    const conflicts = new Set<number>();
    for (const index of await this.insertAll(this.assignments, newAssignments))
      conflicts.add(newAssignments[index]!.userId);
    for (const { assignment, rev } of changedAssignments) {
      const result = await retryTransient(() =>
        this.assignments.replaceOne(
          { _id: assignmentId(assignment), rev },
          toAssignmentDocument(assignment, rev + 1),
        ),
      );
      if (result.matchedCount !== 1) conflicts.add(assignment.userId);
    }
    return { conflicts: [...conflicts] };
  }

  /** Inserts the new documents at once; a document another writer created meanwhile gets the update instead. */
  private async upsertAll<T extends { _id: unknown }>(
    collection: Collection<T>,
    upserts: Upsert<T>[],
  ): Promise<void> {
    const fresh = upserts.filter((upsert) => upsert.isNew);
    const clashed = await this.insertAll(
      collection,
      fresh.map((upsert) => upsert.document),
    );
    const updates = [
      ...upserts.filter((upsert) => !upsert.isNew),
      ...clashed.map((index) => fresh[index]!),
    ];
    for (const { filter, update } of updates) {
      await retryTransient(() => collection.updateOne(filter, update));
    }
  }

  /** An unordered insert; resolves with the indexes of the documents that already existed. */
  private async insertAll<T extends { _id: unknown }>(
    collection: Collection<T>,
    documents: T[],
  ): Promise<number[]> {
    if (documents.length === 0) return [];
    try {
      await retryTransient(() =>
        collection.insertMany(documents as OptionalUnlessRequiredId<T>[], { ordered: false }),
      );
      return [];
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const writeErrors = [error.writeErrors].flat();
      if (writeErrors.length === 0 || !writeErrors.every((writeError) => writeError.code === 11000))
        throw error;
      return writeErrors.map((writeError) => writeError.index);
    }
  }
}
