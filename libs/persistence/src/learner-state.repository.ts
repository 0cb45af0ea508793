import { emptyUserState, type AssignmentRecord, type UserState } from '@assigner/domain';
import {
  MongoBulkWriteError,
  type Collection,
  type Db,
  type OptionalUnlessRequiredId,
} from 'mongodb';
import {
  learnerStateDocument,
  stateContent,
  stateOf,
  toAssignmentDocument,
  type AssignmentDocument,
  type LearnerStateDocument,
  type StateContent,
  type StoredLearnerStateDocument,
} from './learner-state.documents';
import { retryTransient } from './mongo-errors';
import { usesSecondaryIndexes } from './store-capabilities';

/** Above this many learners a read is one range read rather than a `$in` (see versionsOf). */
const LONGEST_IN = 200;

/** What was loaded, to tell afterwards what changed and to write the next versions. */
export interface LoadedStates {
  states: Map<number, UserState>;
  /** Per learner with a stored state: what was loaded of it. */
  loaded: Map<number, LoadedVersion>;
}

interface LoadedVersion {
  version: number;
  /** The state's content as JSON, to tell whether it changed. */
  content: string;
  /** Assignment key → its version, to tell which lookup copies to write. */
  assignmentVersions: Map<string, number>;
  /** The older versions still stored, deleted once a newer one holds. */
  older: string[];
}

export interface SaveOptions {
  /** Learners whose lookup copies must be written even if their state did not change (a redelivery). */
  resync?: readonly number[];
}

/**
 * Learners' state (usernames, enrollments, assignments with their histories): everything a
 * decision depends on, one insert-only document per learner and version, plus a lookup copy of
 * each assignment. Only single-document writes; a lost race is reported so that the caller
 * re-applies that learner's events on fresh state.
 *
 * Superseded versions are deleted (FerretDB scans every document on every query), which frees
 * their `_id`s; a writer whose state was loaded before several newer versions could then insert
 * its version under a freed number. So every version number ever written is also recorded in
 * `learner_state_numbers`, which is only ever inserted into: a number recorded before is a lost
 * race, found by one insert instead of a read of the newer versions.
 */
export class LearnerStateRepository {
  readonly states: Collection<StoredLearnerStateDocument>;
  readonly assignments: Collection<AssignmentDocument>;
  /** `<userId>#<version>` of every version written; never read, never deleted from. */
  private readonly takenNumbers: Collection<{ _id: string }>;

  constructor(private readonly db: Db) {
    this.states = db.collection('learner_states');
    this.assignments = db.collection('assignments');
    this.takenNumbers = db.collection('learner_state_numbers');
  }

  /** For loads by learner, lookups by username, and counts per experiment. */
  async ensureIndexes(): Promise<void> {
    if (!(await usesSecondaryIndexes(this.db, this.states.collectionName))) return;
    await this.states.createIndex({ userId: 1 });
    await this.states.createIndex({ username: 1 }, { sparse: true });
    await this.assignments.createIndex({ experiment: 1, courseId: 1, userId: 1 }, { unique: true });
  }

  /** Every assignment as the learners' latest states hold it. */
  async allAssignments(): Promise<AssignmentRecord[]> {
    return retryTransient(async () => {
      const assignments: AssignmentRecord[] = [];
      for await (const state of this.latestStatesInOrder())
        assignments.push(...state.assignments.values());
      return assignments;
    });
  }

  /** Every learner's latest state, in user id order; memory holds one learner at a time. */
  async *latestStatesInOrder(): AsyncGenerator<UserState> {
    let latest: StoredLearnerStateDocument | undefined;
    for await (const document of this.states.find().sort({ userId: 1, version: 1 })) {
      if (latest && latest.userId !== document.userId) yield stateOf(latest);
      latest = document;
    }
    if (latest) yield stateOf(latest);
  }

  /** The latest stored states of these learners; learners never stored are left out. */
  async latestStates(userIds: readonly number[]): Promise<Map<number, UserState>> {
    const { states, loaded } = await this.load(userIds);
    return new Map([...states].filter(([userId]) => loaded.has(userId)));
  }

  /** The learners whose latest state has this username (edX usernames are unique, so one). */
  async learnersNamed(username: string): Promise<number[]> {
    const candidates = await retryTransient(() =>
      this.states.find({ username }, { projection: { userId: 1 } }).toArray(),
    );
    const latest = await this.latestStates(candidates.map(({ userId }) => userId));
    return [...latest.values()]
      .filter((state) => state.username === username)
      .map(({ userId }) => userId);
  }

  async load(userIds: readonly number[]): Promise<LoadedStates> {
    const ids = [...new Set(userIds)];
    const documents = await this.versionsOf(ids);
    const byLearner = groupByLearner(documents);
    const loaded: LoadedStates = { states: new Map(), loaded: new Map() };
    for (const id of ids) {
      const versions = byLearner.get(id) ?? [];
      const document = versions[versions.length - 1];
      const state = document ? stateOf(document) : emptyUserState(id);
      loaded.states.set(id, state);
      if (document)
        loaded.loaded.set(id, {
          version: document.version,
          content: contentKey(stateContent(state)),
          assignmentVersions: new Map(
            [...state.assignments].map(([key, assignment]) => [key, assignment.version]),
          ),
          older: versions.slice(0, -1).map(({ _id }) => _id),
        });
    }
    return loaded;
  }

  /**
   * Writes each changed learner's next version in one unordered insert. A version another writer
   * took first is a conflict: that learner's state is unwritten. So is one whose number was taken
   * before (the version was deleted since): it lies below a newer one, where loads ignore it and
   * the next writer deletes it. (A writer deleting this very version may record its number first;
   * the reload then finds the events applied.) Resolves then, with the writes still under way of
   * the lookup copies of what the written versions changed, and of the superseded versions'
   * removal.
   */
  async save(
    loaded: LoadedStates,
    options: SaveOptions = {},
  ): Promise<{ conflicts: number[]; derived: Promise<void> }> {
    const savedAt = new Date();
    const versions: LearnerStateDocument[] = [];
    for (const [userId, state] of loaded.states) {
      const before = loaded.loaded.get(userId);
      const content = stateContent(state);
      if (before && before.content === contentKey(content)) continue;
      versions.push(learnerStateDocument(content, before ? before.version + 1 : 0, savedAt));
    }
    const clashed = await this.insertAll(this.states, versions);
    const conflicts = new Set(clashed.map((index) => versions[index]!.userId));
    const inserted = versions.filter(({ userId }) => !conflicts.has(userId));
    const reused = await this.insertAll(
      this.takenNumbers,
      inserted.map(({ _id }) => ({ _id })),
    );
    for (const index of reused) conflicts.add(inserted[index]!.userId);
    const written = inserted.map(({ userId }) => userId).filter((id) => !conflicts.has(id));

    const derived = (async () => {
      await this.copyAssignments(loaded, written, options.resync ?? []);
      await this.deleteSuperseded(loaded, written);
    })();
    return { conflicts: [...conflicts], derived };
  }

  /**
   * Every stored version of these learners. FerretDB evaluates `$in` against each document of the
   * collection, so its cost grows with the list: for many learners with dense ids (a replay's
   * chunk) one range read filtered here is several times cheaper than a long `$in`.
   */
  private async versionsOf(userIds: readonly number[]): Promise<StoredLearnerStateDocument[]> {
    if (userIds.length === 0) return [];
    let min = Infinity;
    let max = -Infinity;
    for (const userId of userIds) {
      min = Math.min(min, userId);
      max = Math.max(max, userId);
    }
    // A range also suits MongoDB's index when the ids are dense; sparse ones keep the `$in`.
    const byRange = userIds.length > LONGEST_IN && max - min < 4 * userIds.length;
    const filter = byRange
      ? { userId: { $gte: min, $lte: max } }
      : { userId: { $in: [...userIds] } };
    const documents = await retryTransient(() => this.states.find(filter).toArray());
    if (!byRange) return documents;
    const wanted = new Set(userIds);
    return documents.filter(({ userId }) => wanted.has(userId));
  }

  /**
   * The lookup copies of what the written versions changed, and all of the resynced learners'
   * copies: a crash after the state's write may have left them behind. New assignments go in one
   * insert; the rest are compared with the stored copies first, because a replace is slow on
   * FerretDB and after a redelivery most copies are already right.
   */
  private async copyAssignments(
    loaded: LoadedStates,
    written: readonly number[],
    resync: readonly number[],
  ): Promise<void> {
    const created: AssignmentDocument[] = [];
    const others: AssignmentDocument[] = [];
    const resynced = new Set(resync);
    for (const userId of new Set([...written, ...resync])) {
      const state = loaded.states.get(userId);
      const before = loaded.loaded.get(userId)?.assignmentVersions;
      for (const [key, assignment] of state?.assignments ?? []) {
        const version = before?.get(key);
        if (version === undefined) created.push(toAssignmentDocument(assignment));
        else if (version !== assignment.version || resynced.has(userId))
          others.push(toAssignmentDocument(assignment));
      }
    }
    const clashed = await this.insertAll(this.assignments, created);
    await this.bringUpToDate([...others, ...clashed.map((index) => created[index]!)]);
  }

  /** Inserts the copies that are missing and replaces those older than these. */
  private async bringUpToDate(documents: readonly AssignmentDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const stored = await retryTransient(() =>
      this.assignments
        .find({ _id: { $in: documents.map(({ _id }) => _id) } }, { projection: { version: 1 } })
        .toArray(),
    );
    const versions = new Map(stored.map(({ _id, version }) => [_id, version]));
    // A copy another writer inserted meanwhile is left for that writer to complete.
    await this.insertAll(
      this.assignments,
      documents.filter(({ _id }) => !versions.has(_id)),
    );
    for (const document of documents) {
      const version = versions.get(document._id);
      if (version === undefined || version >= document.version) continue;
      // Conditional on the version read, so a newer copy written meanwhile is left alone.
      await retryTransient(() =>
        this.assignments.replaceOne({ _id: document._id, version }, document),
      );
    }
  }

  /**
   * Keeps at most the written version and the one it replaced (every store query scans on
   * FerretDB, so fewer documents mean faster loads). The numbers are recorded first, as their
   * writers may have stopped between writing a version and recording its number.
   */
  private async deleteSuperseded(loaded: LoadedStates, userIds: readonly number[]): Promise<void> {
    const ids = userIds.flatMap((userId) => loaded.loaded.get(userId)?.older ?? []);
    if (ids.length === 0) return;
    await this.insertAll(
      this.takenNumbers,
      ids.map((_id) => ({ _id })),
    );
    await retryTransient(() => this.states.deleteMany({ _id: { $in: ids } }));
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

/** What decisions depend on; the positions alone changing need no write (see `UserState`). */
function contentKey(content: StateContent): string {
  const { positions, ...decisive } = content;
  void positions;
  return JSON.stringify(decisive);
}

/** Each learner's stored versions, oldest first. */
function groupByLearner(
  documents: StoredLearnerStateDocument[],
): Map<number, StoredLearnerStateDocument[]> {
  const byLearner = new Map<number, StoredLearnerStateDocument[]>();
  for (const document of documents) {
    const versions = byLearner.get(document.userId);
    if (versions) versions.push(document);
    else byLearner.set(document.userId, [document]);
  }
  for (const versions of byLearner.values()) versions.sort((a, b) => a.version - b.version);
  return byLearner;
}
