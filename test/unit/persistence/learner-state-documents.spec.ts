import { assignmentKey, emptyUserState, type AssignmentRecord } from '@assigner/domain';
import {
  learnerStateDocument,
  stateContent,
  stateOf,
  type StateContent,
  type StoredLearnerStateDocument,
} from '../../../libs/persistence/src/learner-state.documents';

const COURSE = 'course-v1:edX+DemoX+Demo.Course';

function learner() {
  const state = emptyUserState(42);
  state.username = 'ada';
  state.usernameAt = 1_700_000_000_000_001;
  state.usernameSince = 1_700_000_000_000_000;
  state.enrollments.set(COURSE, { createdAt: 1_700_000_000_000_000, mode: 'audit', active: true });
  const assignment: AssignmentRecord = {
    experiment: 'course_experience.animated_exy',
    courseId: COURSE,
    userId: 42,
    username: 'ada',
    bucket: 1,
    reason: 'hash',
    version: 0,
    firstDecidedAt: 1_700_000_000_000_002,
    lastDecidedAt: 1_700_000_000_000_002,
    history: [
      {
        version: 0,
        bucket: 1,
        reason: 'hash',
        at: 1_700_000_000_000_002,
        site: null,
        isStaff: false,
        position: { source: 'tracking.log.v1/3', offset: 17 },
      },
    ],
  };
  state.assignments.set(assignmentKey(assignment.experiment, COURSE), assignment);
  state.positions = { 'tracking.log.v1/3': 17 };
  return state;
}

/** A version as stored before the JSON encoding: the same content as nested fields. */
function nestedDocument({ userId, username, ...nested }: StateContent): StoredLearnerStateDocument {
  return { _id: `${userId}#0`, userId, username, version: 0, savedAt: new Date(0), ...nested };
}

describe('learner state documents', () => {
  it('read back as the state they were written from', () => {
    const state = learner();
    const document = learnerStateDocument(stateContent(state), 3, new Date(0));
    expect(document).toMatchObject({ _id: '42#3', userId: 42, version: 3, username: 'ada' });
    expect(stateOf(document)).toEqual(state);
  });

  it('keep only what the store filters on as fields of their own', () => {
    const document = learnerStateDocument(stateContent(emptyUserState(9)), 0, new Date(0));
    expect(Object.keys(document).sort()).toEqual([
      '_id',
      'block',
      'savedAt',
      'state',
      'userId',
      'version',
    ]);
  });

  it('still read versions stored with nested fields, before the JSON encoding', () => {
    const state = learner();
    expect(stateOf(nestedDocument(stateContent(state)))).toEqual(state);
  });

  it('count a legacy username without usernameSince as known from the start', () => {
    const { usernameSince, ...content } = stateContent(learner());
    void usernameSince;
    expect(stateOf(nestedDocument(content)).usernameSince).toBe(0);
  });
});
