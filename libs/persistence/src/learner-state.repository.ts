import { emptyUserState, type UserState } from '@assigner/domain';
import type { LearnerStateStore } from '@assigner/contracts';
import {
  MongoBulkWriteError,
  type Collection,
  type Db,
  type Document,
  type OptionalUnlessRequiredId,
} from 'mongodb';
import {
  learnerBlock,
  learnerStateDocument,
  learnerStateId,
  stateContent,
  stateOf,
  toAssignmentDocument,
  type AssignmentDocument,
  type LearnerStateDocument,
  type StateContent,
  type StoredLearnerStateDocument,
} from './learner-state.documents';
import { LRUCache } from 'lru-cache';
import { groupBy } from './group-by';
import { inParallel, slices } from './in-parallel';
import { retryTransient } from './mongo-errors';
import { HighestLearnerIds } from './highest-learner-ids';
import {
  findEach,
  findEachOf,
  storeCapabilities,
  type StoreCapabilities,
} from './store-capabilities';

/**
 * Where the store serves only equality from an index, a read of many learners of few blocks (see
 * `learnerBlock`) reads by block: a replay's chunk, whose learners have dense ids, is then a few
 * hundred lookups rather than thousands. It does so when the learners wanted are at least this
 * many per block.
 */
const LEARNERS_PER_BLOCK_READ = 4;

/** Deletes go as bulk writes of this many statements; deletes and replaces, a few at a time. */
const WRITES_PER_COMMAND = 200;
const COMMANDS_IN_FLIGHT = 4;

/** What was loaded, to tell afterwards what changed and to write the next versions. */
export interface LoadedStates {
  states: Map<number, UserState>;
  /** Per learner with a stored state: what was loaded of it. */
  loaded: Map<number, LoadedVersion>;
  /** The input partition whose mark the load presumed new learners above, and that mark. */
  mark?: { source: string; userId: number };
}

/** A learner's latest stored version, and the older ones still stored (version 0 aside). */
interface CachedVersion {
  document: StoredLearnerStateDocument;
  older: string[];
}

interface LoadedVersion {
  version: number;
  /** The state's content as JSON, to tell whether it changed. */
  content: string;
  /** Assignment key → its version, to tell which lookup copies to write. */
  assignmentVersions: Map<string, number>;
  /** The older versions still stored (version 0 aside): deleted before the next version is written. */
  older: string[];
}

export interface LearnerStateRepositoryOptions {
  /**
   * How many learners' latest stored versions to keep in memory, so that loading them again needs
   * no read (0: none). Safe with other writers: a save built on a version that is no longer the
   * latest is a conflict, and the learner is read again.
   */
  cacheSize?: number;
  /**
   * Loading one input partition's learners to write, presume new (no read) those above the
   * highest user id stored of that partition (see `HighestLearnerIds`): for a worker, whose input
   * is keyed by learner. A replay reads every learner: history it replays again is all stored.
   */
  presumeNewLearners?: boolean;
}

export interface LoadOptions {
  /** Read every learner from the store (after a conflict): none from the cache, none presumed new. */
  fromStore?: boolean;
  /** The input partition of every one of these learners' events, if they share one. */
  source?: string;
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
 * The unique `_id` (`<userId>#<version>`) makes writing version n+1 a compare-and-set, and so does
 * deleting version n after it: only the writer of n+1 deletes n (or a writer about to build on
 * n+1, which finishes the job first), so n is gone before n+1 can be superseded and its number
 * freed. A writer whose insert of n+1 succeeded only because that number was freed (its state
 * was loaded before two or more newer versions) then finds n already deleted: a lost race, with
 * no read. Version 0 is never deleted, so inserting it succeeds only for a learner nobody has
 * written, and version 1, which has no predecessor to delete, is checked after its insert by one
 * read of the learner's versions instead: once per learner, where a copy of every new learner as
 * version 1 would cost a write each. At rest a learner has one document (version 0) or two
 * (version 0 and the latest). That version 0 is also what lets a worker skip reading learners it
 * presumes new (see `presumeNewLearners`): a wrong presumption fails on it like any lost race.
 */
export class LearnerStateRepository implements LearnerStateStore {
  readonly states: Collection<StoredLearnerStateDocument>;
  readonly assignments: Collection<AssignmentDocument>;
  private capabilities?: Promise<StoreCapabilities>;
  /** The latest version this process stored or read of recently used learners. */
  private readonly cache?: LRUCache<number, CachedVersion>;
  /** Where new learners are presumed, without reading them. */
  private readonly highestLearnerIds?: HighestLearnerIds;

  constructor(
    private readonly db: Db,
    options: LearnerStateRepositoryOptions = {},
  ) {
    this.states = db.collection('learner_states');
    this.assignments = db.collection('assignments');
    if (options.cacheSize) this.cache = new LRUCache({ max: options.cacheSize });
    if (options.presumeNewLearners) this.highestLearnerIds = new HighestLearnerIds(db);
  }

  /** For loads by learner (and by block), lookups by username, and copies by assignment. */
  async ensureIndexes(): Promise<void> {
    await this.states.createIndex({ userId: 1 });
    if (!(await this.storeCapabilities()).indexedIn) await this.states.createIndex({ block: 1 });
    await this.states.createIndex({ username: 1 }, { sparse: true });
    await this.assignments.createIndex({ experiment: 1, courseId: 1, userId: 1 }, { unique: true });
  }

  private storeCapabilities(): Promise<StoreCapabilities> {
    this.capabilities ??= storeCapabilities(this.db, this.states.collectionName);
    return this.capabilities;
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

  async load(userIds: readonly number[], options: LoadOptions = {}): Promise<LoadedStates> {
    const ids = [...new Set(userIds)];
    const cached = new Map<number, CachedVersion>();
    if (this.cache && !options.fromStore)
      for (const id of ids) {
        const version = this.cache.get(id);
        if (version) cached.set(id, version);
      }
    const unread = ids.filter((id) => !cached.has(id));
    const mark = await this.markToPresumeAbove(options, unread);
    const read = groupByLearner(
      await this.versionsOf(mark ? unread.filter((id) => id <= mark.userId) : unread),
    );
    const loaded: LoadedStates = { states: new Map(), loaded: new Map(), mark };
    for (const id of ids) {
      let version = cached.get(id);
      if (!version) {
        const versions = read.get(id) ?? [];
        const latest = versions.pop();
        // Version 0 stays (see the class): it is never among those to delete.
        if (latest) {
          version = {
            document: latest,
            older: versions.filter((v) => v.version > 0).map(({ _id }) => _id),
          };
          this.cache?.set(id, version);
        }
      }
      const state = version ? stateOf(version.document) : emptyUserState(id);
      loaded.states.set(id, state);
      if (version)
        loaded.loaded.set(id, {
          version: version.document.version,
          content: contentKey(stateContent(state)),
          assignmentVersions: new Map(
            [...state.assignments].map(([key, assignment]) => [key, assignment.version]),
          ),
          older: version.older,
        });
    }
    return loaded;
  }

  /**
   * Writes each changed learner's next version in one unordered insert, then deletes the versions
   * they replace. A version another writer took first is a conflict: that learner's state is
   * unwritten; so is one whose predecessor was gone already (its number had been freed: loads
   * ignore it and the next writer deletes it). Resolves then, with the writes still under way of
   * the lookup copies of what the written versions changed.
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
    // Versions another writer left behind below the ones built on go first (see the class).
    await this.deleteAll(versions.flatMap(({ userId }) => loaded.loaded.get(userId)?.older ?? []));
    const clashed = await this.insertAll(this.states, versions);
    const conflicts = new Set(clashed.map((index) => versions[index]!.userId));
    const inserted = versions.filter(({ userId }) => !conflicts.has(userId));
    for (const userId of await this.racesLostAmong(inserted)) conflicts.add(userId);
    const written = inserted.filter(({ userId }) => !conflicts.has(userId));
    for (const userId of conflicts) this.cache?.delete(userId);
    for (const document of written) this.cache?.set(document.userId, { document, older: [] });

    const writtenIds = written.map(({ userId }) => userId);
    const derived = Promise.all([
      this.copyAssignments(loaded, writtenIds, options.resync ?? []),
      this.raiseMark(loaded),
    ]).then(() => undefined);
    return { conflicts: [...conflicts], derived };
  }

  /** The mark of the input partition above which this load presumes learners new, if any. */
  private async markToPresumeAbove(
    { source, fromStore }: LoadOptions,
    unread: readonly number[],
  ): Promise<LoadedStates['mark']> {
    // After a conflict every learner is read; learners all cached leave no read to spare.
    if (!this.highestLearnerIds || source === undefined || fromStore || unread.length === 0)
      return undefined;
    return { source, userId: await this.highestLearnerIds.of(source) };
  }

  /**
   * Every learner loaded is stored now (written, or a conflict: another writer's state), so the
   * partition's mark may rise to the highest of them; nothing to write when it is that high already.
   */
  private async raiseMark({ states, mark }: LoadedStates): Promise<void> {
    if (!mark || !this.highestLearnerIds) return;
    let highest = mark.userId;
    for (const userId of states.keys()) if (userId > highest) highest = userId;
    if (highest > mark.userId) await this.highestLearnerIds.raise(mark.source, highest);
  }

  /**
   * The learners among these just-inserted versions that lost their race: for versions above 1,
   * those whose predecessor was deleted by another writer before theirs (deleting it is the
   * compare-and-set); for version 1, and wherever a delete found less than it should (another
   * writer finished the job, or a retried delete), those with a newer version stored.
   */
  private async racesLostAmong(inserted: readonly LearnerStateDocument[]): Promise<number[]> {
    const toCheck = inserted.filter(({ version }) => version === 1);
    const deletes = inserted.filter(({ version }) => version > 1);
    await inParallel(slices(deletes, WRITES_PER_COMMAND), COMMANDS_IN_FLIGHT, async (slice) => {
      const { deletedCount } = await retryTransient(() =>
        this.states.bulkWrite(
          slice.map(({ userId, version }) => ({
            deleteOne: { filter: { _id: learnerStateId(userId, version - 1) } },
          })),
          { ordered: false },
        ),
      );
      if (deletedCount < slice.length) toCheck.push(...slice);
    });
    const stored = await this.versionsOf(
      toCheck.map(({ userId }) => userId),
      { userId: 1, version: 1 },
    );
    const newest = new Map<number, number>();
    for (const { userId, version } of stored)
      newest.set(userId, Math.max(version, newest.get(userId) ?? -1));
    return toCheck
      .filter(({ userId, version }) => (newest.get(userId) ?? -1) > version)
      .map(({ userId }) => userId);
  }

  /**
   * Every stored version of these learners, each learner's or each block's by one lookup where
   * the store serves only equality (`block` for many learners of few blocks), else by one `$in`.
   * A block's lookup names the learners wanted in it: the store reads the block by its index and
   * returns only those (a worker's partition holds a fraction of each block's learners).
   */
  private async versionsOf(
    userIds: readonly number[],
    projection?: Document,
  ): Promise<StoredLearnerStateDocument[]> {
    if (userIds.length === 0) return [];
    const capabilities = await this.storeCapabilities();
    const blocks = groupBy(userIds, learnerBlock);
    if (capabilities.indexedIn || userIds.length < LEARNERS_PER_BLOCK_READ * blocks.size)
      return findEach(this.states, capabilities, 'userId', userIds, projection);
    return findEachOf(
      this.states,
      [...blocks].map(([block, learners]) => ({ block, userId: { $in: learners } })),
      projection,
    );
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
    const stored = await findEach(
      this.assignments,
      await this.storeCapabilities(),
      '_id',
      documents.map(({ _id }) => _id),
      { version: 1 },
    );
    const versions = new Map(stored.map(({ _id, version }) => [_id, version]));
    // A copy another writer inserted meanwhile is left for that writer to complete.
    await this.insertAll(
      this.assignments,
      documents.filter(({ _id }) => !versions.has(_id)),
    );
    // Conditional on the version read, so a newer copy written meanwhile is left alone. One
    // statement per command: FerretDB on PostgreSQL holds a connection for each statement of an
    // update command until the command ends, and takes one more to write; a long command
    // exhausts its pool and deadlocks.
    const replaces = documents.filter((document) => {
      const version = versions.get(document._id);
      return version !== undefined && version < document.version;
    });
    await inParallel(replaces, COMMANDS_IN_FLIGHT, (document) =>
      retryTransient(() =>
        this.assignments.replaceOne(
          { _id: document._id, version: versions.get(document._id)! },
          document,
        ),
      ),
    );
  }

  /** Deletes these versions, one statement each so that each is an `_id` lookup on every store. */
  private async deleteAll(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await inParallel(slices(ids, WRITES_PER_COMMAND), COMMANDS_IN_FLIGHT, (slice) =>
      retryTransient(() =>
        this.states.bulkWrite(
          slice.map((_id) => ({ deleteOne: { filter: { _id } } })),
          { ordered: false },
        ),
      ),
    );
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
  const byLearner = groupBy(documents, ({ userId }) => userId);
  for (const versions of byLearner.values()) versions.sort((a, b) => a.version - b.version);
  return byLearner;
}
