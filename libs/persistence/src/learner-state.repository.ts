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
import { isDuplicateKey, retryTransient } from './mongo-errors';

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

/**
 * The current state of one assignment, for lookups. Field names never hold data (course keys have
 * dots): positions are a list, not a map. Written after its versions; the versions decide.
 */
export interface AssignmentDocument extends Omit<AssignmentRecord, 'positions'> {
  _id: string;
  positions: { source: string; offset: number }[];
}

/**
 * One bucket change of one assignment, inserted once and never changed. Its _id
 * (`<assignment>#<version>`) makes "write the next version" a compare-and-set that every
 * MongoDB-wire store enforces atomically through the unique _id (FerretDB 1.24's conditional
 * replace is not atomic under concurrency).
 */
interface VersionDocument extends BucketChange {
  _id: string;
  assignmentId: string;
  experiment: string;
  courseId: string | null;
  userId: number;
  username: string;
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
  /** Assignment id → the latest version loaded. */
  versions: Map<string, number>;
}

export const assignmentId = (
  a: Pick<AssignmentRecord, 'experiment' | 'courseId' | 'userId'>,
): string => `${a.experiment}|${a.courseId ?? ''}|${a.userId}`;
const enrollmentId = (userId: number, courseId: string): string => `${userId}|${courseId}`;

export function toAssignmentDocument(assignment: AssignmentRecord): AssignmentDocument {
  const { positions, history, ...rest } = assignment;
  return {
    _id: assignmentId(assignment),
    ...rest,
    // Optional fields are left out rather than stored as null, so documents read back equal.
    history: history.map(({ position, ...change }): BucketChange =>
      position ? { ...change, position } : change,
    ),
    positions: Object.entries(positions).map(([source, offset]) => ({ source, offset })),
  };
}

export function fromAssignmentDocument(document: AssignmentDocument): AssignmentRecord {
  const { _id, positions, ...rest } = document;
  void _id;
  return { ...rest, positions: Object.fromEntries(positions.map((p) => [p.source, p.offset])) };
}

function versionDocuments(assignment: AssignmentRecord, after: number): VersionDocument[] {
  const id = assignmentId(assignment);
  const { experiment, courseId, userId, username } = assignment;
  return assignment.history
    .filter((change) => change.version > after)
    .map(({ position, ...change }) => ({
      _id: `${id}#${change.version}`,
      assignmentId: id,
      experiment,
      courseId,
      userId,
      username,
      ...change,
      ...(position ? { position } : {}),
    }));
}

/** An assignment as its versions tell it; positions are the highest offset per source among them. */
function fromVersions(documents: VersionDocument[]): AssignmentRecord {
  const sorted = [...documents].sort((a, b) => a.version - b.version);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const positions: Record<string, number> = {};
  const history = sorted.map(
    ({ version, bucket, reason, at, site, isStaff, position }): BucketChange => {
      if (position)
        positions[position.source] = Math.max(positions[position.source] ?? -1, position.offset);
      return { version, bucket, reason, at, site, isStaff, ...(position ? { position } : {}) };
    },
  );
  return {
    experiment: last.experiment,
    courseId: last.courseId,
    userId: last.userId,
    username: last.username,
    bucket: last.bucket,
    reason: last.reason,
    version: last.version,
    firstDecidedAt: first.at,
    lastDecidedAt: last.at,
    history,
    positions,
  };
}

function groupByAssignment(documents: VersionDocument[]): AssignmentRecord[] {
  const groups = new Map<string, VersionDocument[]>();
  for (const document of documents) {
    const group = groups.get(document.assignmentId);
    if (group) group.push(document);
    else groups.set(document.assignmentId, [document]);
  }
  return [...groups.values()].map(fromVersions);
}

/**
 * Learners' usernames, enrollments and assignments: everything a decision depends on. Writes are
 * single-document and safe to repeat; an assignment changes by inserting its next numbered
 * version, and a lost race is reported so that the caller re-applies that learner's events on
 * fresh state.
 */
export class LearnerStateRepository {
  readonly learners: Collection<LearnerDocument>;
  readonly enrollments: Collection<EnrollmentDocument>;
  readonly assignments: Collection<AssignmentDocument>;
  readonly versions: Collection<VersionDocument>;

  constructor(db: Db) {
    this.learners = db.collection('learners');
    this.enrollments = db.collection('enrollments');
    this.assignments = db.collection('assignments');
    this.versions = db.collection('assignment_versions');
  }

  /** Every assignment, as its versions tell it. */
  async allAssignments(): Promise<AssignmentRecord[]> {
    return groupByAssignment(await retryTransient(() => this.versions.find().toArray()));
  }

  async ensureIndexes(): Promise<void> {
    await this.enrollments.createIndex({ userId: 1 });
    await this.assignments.createIndex({ experiment: 1, courseId: 1, userId: 1 }, { unique: true });
    await this.assignments.createIndex({ userId: 1 });
    await this.versions.createIndex({ userId: 1 });
  }

  async load(userIds: readonly number[]): Promise<LoadedStates> {
    const ids = [...new Set(userIds)];
    const [learners, enrollments, assignments] = await Promise.all([
      retryTransient(() => this.learners.find({ _id: { $in: ids } }).toArray()),
      retryTransient(() => this.enrollments.find({ userId: { $in: ids } }).toArray()),
      retryTransient(() => this.versions.find({ userId: { $in: ids } }).toArray()),
    ]);
    const loaded: LoadedStates = {
      states: new Map(),
      usernames: new Map(),
      enrollments: new Map(),
      versions: new Map(),
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
    for (const assignment of groupByAssignment(assignments)) {
      loaded.states
        .get(assignment.userId)!
        .assignments.set(assignmentKey(assignment.experiment, assignment.courseId), assignment);
      loaded.versions.set(assignmentId(assignment), assignment.version);
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
    const newVersions: VersionDocument[] = [];
    const changed: AssignmentRecord[] = [];

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
        const before = loaded.versions.get(assignmentId(assignment)) ?? -1;
        if (before === assignment.version) continue;
        newVersions.push(...versionDocuments(assignment, before));
        changed.push(assignment);
      }
    }

    await this.upsertAll(this.learners, learners);
    await this.upsertAll(this.enrollments, enrollments);
    // In order, stopping at the first version another writer took: every version after it, of
    // any learner, is unwritten and that learner's events are applied again on fresh state.
    const conflicts = new Set<number>();
    const firstClash = await this.insertInOrder(this.versions, newVersions);
    for (const version of newVersions.slice(firstClash)) conflicts.add(version.userId);
    // The lookup copies: new ones in one insert, others replaced unless a newer one is there.
    const settled = changed.filter((assignment) => !conflicts.has(assignment.userId));
    const created = settled.filter((assignment) => !loaded.versions.has(assignmentId(assignment)));
    const clashed = await this.insertAll(this.assignments, created.map(toAssignmentDocument));
    const replaced = [
      ...settled.filter((a) => loaded.versions.has(assignmentId(a))),
      ...clashed.map((index) => created[index]!),
    ];
    for (const assignment of replaced) {
      const document = toAssignmentDocument(assignment);
      try {
        await retryTransient(() =>
          this.assignments.replaceOne(
            { _id: document._id, version: { $lt: assignment.version } },
            document,
            { upsert: true },
          ),
        );
      } catch (error) {
        // A newer version's writer updated the lookup copy first.
        if (!isDuplicateKey(error)) throw error;
      }
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

  /** An ordered insert; resolves with the index of the first document that already existed (or the length). */
  private async insertInOrder<T extends { _id: unknown }>(
    collection: Collection<T>,
    documents: T[],
  ): Promise<number> {
    if (documents.length === 0) return 0;
    try {
      await retryTransient(() =>
        collection.insertMany(documents as OptionalUnlessRequiredId<T>[], { ordered: true }),
      );
      return documents.length;
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const writeErrors = [error.writeErrors].flat();
      if (writeErrors.length === 0 || !writeErrors.every((writeError) => writeError.code === 11000))
        throw error;
      return Math.min(...writeErrors.map((writeError) => writeError.index));
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
