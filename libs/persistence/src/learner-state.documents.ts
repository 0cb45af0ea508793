import {
  assignmentKey,
  emptyUserState,
  type AssignmentRecord,
  type UserState,
} from '@assigner/domain';

/**
 * One version of one learner's whole state: username, enrollments, assignments and the source
 * positions applied to them. Inserted once and never changed; the `_id` (`<userId>#<version>`)
 * makes "write the next version" a compare-and-set that every MongoDB-wire store enforces through
 * the unique `_id` (FerretDB 1.24's conditional replace is not atomic under concurrency), and one
 * document makes the state and the positions it reflects land together or not at all.
 *
 * Only what the store filters on has a field of its own; the rest is one JSON string (`state`),
 * the engine's private encoding: FerretDB decodes every field of every document it scans or
 * stores, and a string is 4–6 times cheaper there than the same content as nested documents.
 * The queryable view of assignments is the `assignments` collection.
 */
export interface LearnerStateDocument {
  _id: string;
  userId: number;
  /** `learnerBlock(userId)`: where only equality is indexed, many learners are read by block. */
  block: number;
  version: number;
  savedAt: Date;
  username?: string;
  /** `StoredState` as JSON. */
  state: string;
}

/** The state as stored, without the version fields: equal content means nothing changed. */
export interface StateContent {
  userId: number;
  username?: string;
  usernameAt?: number;
  usernameSince?: number;
  /** Course keys hold dots and source names may too, so no field name ever holds data: maps are lists. */
  enrollments: { courseId: string; createdAt: number; mode?: string; active?: boolean }[];
  assignments: StoredAssignment[];
  positions: { source: string; offset: number }[];
}

type StoredState = Omit<StateContent, 'userId' | 'username'>;

/** What a read may find: versions stored before the `state` encoding hold it as nested fields. */
export type StoredLearnerStateDocument =
  | LearnerStateDocument
  | (Omit<LearnerStateDocument, 'state' | 'block'> & StoredState & { block?: number });

type StoredAssignment = Omit<AssignmentRecord, 'userId'>;

/**
 * One assignment's current bucket, copied out of its learner's state for lookups and counts. Its
 * history stays in the state: copying it too made writing the copies the slowest part of a replay.
 */
export interface AssignmentDocument extends AssignmentCopy {
  _id: string;
}

export type AssignmentCopy = Omit<AssignmentRecord, 'history'>;

export const assignmentId = (
  a: Pick<AssignmentRecord, 'experiment' | 'courseId' | 'userId'>,
): string => `${a.experiment}|${a.courseId ?? ''}|${a.userId}`;

export const learnerStateId = (userId: number, version: number): string => `${userId}#${version}`;

/** Learners `64 b` to `64 b + 63` make block b. Open edX user ids are dense, as are a replay's. */
export const learnerBlock = (userId: number): number => Math.floor(userId / 64);

/** Optional fields are left out rather than stored as null, so that documents read back equal. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/** The fields a state is stored with; those left undefined vanish in its JSON. */
export function stateContent(state: UserState): StateContent {
  return {
    userId: state.userId,
    username: state.username,
    usernameAt: state.usernameAt,
    usernameSince: state.usernameSince,
    enrollments: [...state.enrollments].map(([courseId, enrollment]) => ({
      courseId,
      ...enrollment,
    })),
    assignments: [...state.assignments.values()].map(({ userId, ...stored }) => {
      void userId;
      return stored;
    }),
    positions: Object.entries(state.positions).map(([source, offset]) => ({ source, offset })),
  };
}

export function learnerStateDocument(
  { userId, username, ...stored }: StateContent,
  version: number,
  savedAt: Date,
): LearnerStateDocument {
  return withoutUndefined({
    _id: learnerStateId(userId, version),
    userId,
    block: learnerBlock(userId),
    version,
    savedAt,
    username,
    state: JSON.stringify(stored satisfies StoredState),
  });
}

export function stateOf(document: StoredLearnerStateDocument): UserState {
  const stored: StoredState =
    'state' in document ? (JSON.parse(document.state) as StoredState) : document;
  const state = emptyUserState(document.userId);
  state.username = document.username;
  state.usernameAt = stored.usernameAt;
  // States stored before usernameSince existed: their username counts as always known.
  state.usernameSince = stored.usernameSince ?? (document.username === undefined ? undefined : 0);
  for (const { courseId, ...enrollment } of stored.enrollments)
    state.enrollments.set(courseId, enrollment);
  for (const assignment of stored.assignments) {
    const { experiment, courseId } = assignment;
    state.assignments.set(assignmentKey(experiment, courseId), {
      ...assignment,
      userId: document.userId,
    });
  }
  for (const { source, offset } of stored.positions) state.positions[source] = offset;
  return state;
}

export function toAssignmentDocument({
  history,
  ...assignment
}: AssignmentRecord): AssignmentDocument {
  void history;
  return { _id: assignmentId(assignment), ...assignment };
}

export function fromAssignmentDocument(document: AssignmentDocument): AssignmentCopy {
  const { _id, ...assignment } = document;
  void _id;
  return assignment;
}
