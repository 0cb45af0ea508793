import {
  assignmentKey,
  emptyUserState,
  type AssignmentRecord,
  type BucketChange,
  type UserState,
} from '@assigner/domain';

/**
 * One version of one learner's whole state: username, enrollments, assignments and the source
 * positions applied to them. Inserted once and never changed; the `_id` (`<userId>#<version>`)
 * makes "write the next version" a compare-and-set that every MongoDB-wire store enforces through
 * the unique `_id` (FerretDB 1.24's conditional replace is not atomic under concurrency), and one
 * document makes the state and the positions it reflects land together or not at all.
 *
 * Course keys hold dots and source names may too, so no field name ever holds data: maps are lists.
 */
export interface LearnerStateDocument {
  _id: string;
  userId: number;
  version: number;
  savedAt: Date;
  username?: string;
  usernameAt?: number;
  usernameSince?: number;
  enrollments: { courseId: string; createdAt: number; mode?: string; active?: boolean }[];
  assignments: StoredAssignment[];
  positions: { source: string; offset: number }[];
}

type StoredAssignment = Omit<AssignmentRecord, 'userId'>;

/** The current state of one assignment, copied out of its learner's state for lookups and counts. */
export interface AssignmentDocument extends AssignmentRecord {
  _id: string;
}

export const assignmentId = (
  a: Pick<AssignmentRecord, 'experiment' | 'courseId' | 'userId'>,
): string => `${a.experiment}|${a.courseId ?? ''}|${a.userId}`;

export const learnerStateId = (userId: number, version: number): string => `${userId}#${version}`;

/** Optional fields are left out rather than stored as null, so that documents read back equal. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

const storedChange = (change: BucketChange): BucketChange => withoutUndefined(change);

/** The state's content as stored, without the version fields: equal content means nothing changed. */
export function stateContent(
  state: UserState,
): Omit<LearnerStateDocument, '_id' | 'version' | 'savedAt'> {
  return withoutUndefined({
    userId: state.userId,
    username: state.username,
    usernameAt: state.usernameAt,
    usernameSince: state.usernameSince,
    enrollments: [...state.enrollments].map(([courseId, enrollment]) =>
      withoutUndefined({ courseId, ...enrollment }),
    ),
    assignments: [...state.assignments.values()].map(({ userId, history, ...rest }) => {
      void userId;
      return { ...rest, history: history.map(storedChange) };
    }),
    positions: Object.entries(state.positions).map(([source, offset]) => ({ source, offset })),
  });
}

export function stateOf(document: LearnerStateDocument): UserState {
  const state = emptyUserState(document.userId);
  state.username = document.username;
  state.usernameAt = document.usernameAt;
  // States stored before usernameSince existed: their username counts as always known.
  state.usernameSince = document.usernameSince ?? (document.username === undefined ? undefined : 0);
  for (const { courseId, ...enrollment } of document.enrollments)
    state.enrollments.set(courseId, enrollment);
  for (const stored of document.assignments) {
    const assignment = { ...stored, userId: document.userId };
    state.assignments.set(assignmentKey(assignment.experiment, assignment.courseId), assignment);
  }
  for (const { source, offset } of document.positions) state.positions[source] = offset;
  return state;
}

export function toAssignmentDocument(assignment: AssignmentRecord): AssignmentDocument {
  return {
    _id: assignmentId(assignment),
    ...assignment,
    history: assignment.history.map(storedChange),
  };
}

export function fromAssignmentDocument(document: AssignmentDocument): AssignmentRecord {
  const { _id, ...assignment } = document;
  void _id;
  return assignment;
}
