import {
  assignmentKey,
  emptyUserState,
  type AssignmentRecord,
  type BucketChange,
  type UserState,
} from '@assigner/domain';
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { isDuplicateKey } from './mongo-errors';

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

/** What was loaded, to tell afterwards what changed and to write with compare-and-set. */
export interface LoadedStates {
  states: Map<number, UserState>;
  usernames: Map<number, number | undefined>;
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
      this.learners.find({ _id: { $in: ids } }).toArray(),
      this.enrollments.find({ userId: { $in: ids } }).toArray(),
      this.assignments.find({ userId: { $in: ids } }).toArray(),
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
      loaded.usernames.set(learner._id, learner.usernameAt);
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
   * Writes what changed since load. Resolves with the learners whose assignments another writer
   * changed in between; their other writes are done and harmless to repeat.
   */
  async save(loaded: LoadedStates): Promise<{ conflicts: number[] }> {
    const learnerWrites: AnyBulkWriteOperation<LearnerDocument>[] = [];
    const enrollmentWrites: AnyBulkWriteOperation<EnrollmentDocument>[] = [];
    const assignmentWrites: { userId: number; write: () => Promise<boolean> }[] = [];

    for (const state of loaded.states.values()) {
      if (
        state.username !== undefined &&
        state.usernameAt !== undefined &&
        state.usernameAt !== loaded.usernames.get(state.userId)
      ) {
        learnerWrites.push({
          updateOne: {
            filter: { _id: state.userId, usernameAt: { $lt: state.usernameAt } },
            update: { $set: { username: state.username, usernameAt: state.usernameAt } },
            upsert: true,
          },
        });
      }
      for (const [courseId, enrollment] of state.enrollments) {
        const _id = enrollmentId(state.userId, courseId);
        const before = loaded.enrollments.get(_id);
        if (
          before &&
          before.createdAt === enrollment.createdAt &&
          before.mode === enrollment.mode &&
          before.active === enrollment.active
        )
          continue;
        enrollmentWrites.push({
          updateOne: {
            filter: { _id },
            update: {
              $min: { createdAt: enrollment.createdAt },
              $set: {
                userId: state.userId,
                courseId,
                ...(enrollment.mode === undefined ? {} : { mode: enrollment.mode }),
                ...(enrollment.active === undefined ? {} : { active: enrollment.active }),
              },
            },
            upsert: true,
          },
        });
      }
      for (const assignment of state.assignments.values()) {
        const _id = assignmentId(assignment);
        const before = loaded.revisions.get(_id);
        if (before?.version === assignment.version) continue;
        assignmentWrites.push({
          userId: state.userId,
          write: () => this.writeAssignment(assignment, before?.rev),
        });
      }
    }

    await Promise.all([
      this.writeEach(this.learners, learnerWrites),
      this.writeEach(this.enrollments, enrollmentWrites),
    ]);
    const results = await Promise.all(
      assignmentWrites.map(async ({ userId, write }) => ((await write()) ? undefined : userId)),
    );
    return { conflicts: [...new Set(results.filter((id): id is number => id !== undefined))] };
  }

  /** One by one: a multi-statement update on FerretDB stops at the first error, even unordered. */
  private async writeEach<T extends { _id: unknown }>(
    collection: Collection<T>,
    writes: AnyBulkWriteOperation<T>[],
  ): Promise<void> {
    await Promise.all(
      writes.map(async (write) => {
        try {
          await collection.bulkWrite([write], { ordered: true });
        } catch (error) {
          // A clash on upsert: another writer created it first; for learners, with a newer name.
          if (!isDuplicateKey(error)) throw error;
          if ('updateOne' in write && write.updateOne) {
            await collection.updateOne(write.updateOne.filter, write.updateOne.update);
          }
        }
      }),
    );
  }

  private async writeAssignment(
    assignment: AssignmentRecord,
    rev: number | undefined,
  ): Promise<boolean> {
    if (rev === undefined) {
      try {
        await this.assignments.insertOne(toAssignmentDocument(assignment, 1));
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    }
    const result = await this.assignments.replaceOne(
      { _id: assignmentId(assignment), rev },
      toAssignmentDocument(assignment, rev + 1),
    );
    return result.matchedCount === 1;
  }
}
