import { emptyUserState, type UserState } from '@assigner/domain';
import { LearnerStateRepository, type LoadedStates } from '@assigner/persistence';
import { BatchAssigner } from '@assigner/pipeline';
import type { Db, MongoClient } from 'mongodb';
import { experiment } from '../support/experiments';
import { testMongoClient, uniqueName } from '../support/real-services';

jest.setTimeout(60_000);

// The compare-and-set that lets a replay and live workers write the same learners, on the real
// store: each save either lands on top of the state it was computed from or is a conflict.
describe('learner states in the store', () => {
  let mongo: MongoClient;
  let db: Db;
  let repository: LearnerStateRepository;
  const USER = 7;

  beforeAll(async () => {
    mongo = testMongoClient();
    await mongo.connect();
  });
  beforeEach(async () => {
    db = mongo.db(uniqueName('learner_states'));
    repository = new LearnerStateRepository(db);
    await repository.ensureIndexes();
  });
  afterAll(async () => {
    await mongo.close();
  });

  const enrolledIn = (state: UserState, courseId: string): UserState => {
    state.enrollments.set(courseId, { createdAt: 1_700_000_000_000_000 });
    return state;
  };

  /** Saves and waits for what follows (lookup copies, deletion of superseded versions). */
  async function save(loaded: LoadedStates): Promise<number[]> {
    const { conflicts, derived } = await repository.save(loaded);
    await derived;
    return conflicts;
  }

  async function advance(courseId: string): Promise<void> {
    const loaded = await repository.load([USER]);
    enrolledIn(loaded.states.get(USER)!, courseId);
    expect(await save(loaded)).toEqual([]);
  }

  const coursesOf = async () => [
    ...((await repository.latestStates([USER])).get(USER)?.enrollments.keys() ?? []),
  ];

  it('stores a new learner and reads the same state back', async () => {
    const state = enrolledIn(emptyUserState(USER), 'course-v1:edX+A+1');
    state.username = 'ada';
    state.usernameAt = 5;
    state.usernameSince = 5;
    state.positions = { 'learners/0': 41 };
    expect(await save({ states: new Map([[USER, state]]), loaded: new Map() })).toEqual([]);
    expect((await repository.latestStates([USER])).get(USER)).toEqual(state);
    expect(await repository.learnersNamed('ada')).toEqual([USER]);
  });

  it('gives exactly one of two writers from the same state a conflict', async () => {
    await advance('course-v1:edX+A+1');
    const first = await repository.load([USER]);
    const second = await repository.load([USER]);
    enrolledIn(first.states.get(USER)!, 'course-v1:edX+B+1');
    enrolledIn(second.states.get(USER)!, 'course-v1:edX+C+1');
    const results = await Promise.all([save(first), save(second)]);
    expect(results.sort()).toEqual([[], [USER]]);
    expect((await coursesOf()).length).toBe(2);
  });

  it.each([
    ['version 0, whose successor is checked by a read', 1],
    ['version 1, whose successor deletes it', 2],
  ])(
    'gives a writer whose version number was freed by deletions a conflict: built on %s',
    async (_, writes) => {
      const courses = ['A', 'B', 'C', 'D', 'E'].map((course) => `course-v1:edX+${course}+1`);
      for (const course of courses.slice(0, writes)) await advance(course);
      const stale = await repository.load([USER]);
      // Three more versions: each save above version 1 deletes the one it replaced, so the
      // number after the stale writer's is free again.
      for (const course of courses.slice(writes, writes + 3)) await advance(course);

      enrolledIn(stale.states.get(USER)!, 'course-v1:edX+Stale+1');
      expect(await save(stale)).toEqual([USER]);
      expect((await coursesOf()).sort()).toEqual(courses.slice(0, writes + 3));
      // The next writer builds on the latest state, not on the stale one.
      await advance('course-v1:edX+F+1');
      expect(await coursesOf()).not.toContain('course-v1:edX+Stale+1');
      expect(await coursesOf()).toContain('course-v1:edX+F+1');
    },
  );

  it('stores a learner written once as one document, and any learner as at most two', async () => {
    await advance('course-v1:edX+A+1');
    expect(await repository.states.countDocuments({ userId: USER })).toBe(1);
    for (const course of ['course-v1:edX+B+1', 'course-v1:edX+C+1', 'course-v1:edX+D+1']) {
      await advance(course);
      expect(await repository.states.countDocuments({ userId: USER })).toBe(2);
    }
  });

  it('finishes the job of a writer stopped between its insert and its delete, for a stale writer to lose', async () => {
    await advance('course-v1:edX+A+1');
    await advance('course-v1:edX+B+1');
    const stale = await repository.load([USER]); // version 1
    // Another writer inserts version 2 (here the same content) and stops before deleting 1.
    const { _id, ...version1 } = (await repository.states.findOne({ _id: `${USER}#1` }))!;
    expect(_id).toBe(`${USER}#1`);
    await repository.states.insertOne({ ...version1, _id: `${USER}#2`, version: 2 });
    // The next two writers build on version 2; version 2's number is free again after them.
    await advance('course-v1:edX+C+1');
    await advance('course-v1:edX+D+1');

    enrolledIn(stale.states.get(USER)!, 'course-v1:edX+Stale+1');
    expect(await save(stale)).toEqual([USER]);
    expect((await coursesOf()).sort()).toEqual([
      'course-v1:edX+A+1',
      'course-v1:edX+B+1',
      'course-v1:edX+C+1',
      'course-v1:edX+D+1',
    ]);
  });

  it('gives a writer working from its cache a conflict once another writer moved on', async () => {
    const cached = new LearnerStateRepository(db, { cacheSize: 10 });
    const first = await cached.load([USER]);
    enrolledIn(first.states.get(USER)!, 'course-v1:edX+A+1');
    expect((await cached.save(first)).conflicts).toEqual([]);
    // Another writer adds three versions: the one after the cached version is deleted meanwhile.
    for (const course of ['course-v1:edX+B+1', 'course-v1:edX+C+1', 'course-v1:edX+D+1'])
      await advance(course);

    const fromCache = await cached.load([USER]);
    expect([...fromCache.states.get(USER)!.enrollments.keys()]).toEqual(['course-v1:edX+A+1']);
    enrolledIn(fromCache.states.get(USER)!, 'course-v1:edX+Stale+1');
    expect((await cached.save(fromCache)).conflicts).toEqual([USER]);
    // Read again, as the pipeline does after a conflict: the latest state, not the cached one.
    const fresh = await cached.load([USER]);
    expect(fresh.states.get(USER)!.enrollments.size).toBe(4);
  });

  it('reads learners through indexes: every lookup the store runs is served by one', async () => {
    await advance('course-v1:edX+A+1');
    const names = (await db.collection('learner_states').listIndexes().toArray()).map(
      ({ name }) => name as string,
    );
    expect(names).toEqual(expect.arrayContaining(['_id_', 'userId_1', 'username_1']));
    const plan = await db.command({
      explain: { find: 'learner_states', filter: { userId: USER } },
      verbosity: 'queryPlanner',
    });
    // MongoDB's planner names the index; FerretDB's (PostgreSQL's plan) the index scan.
    expect(JSON.stringify(plan)).toMatch(/IXSCAN|Index Scan/);
    // Where the store serves only equality, many learners of one block are read by block.
    const blockPlan = await db.command({
      explain: { find: 'learner_states', filter: { block: 0, userId: { $in: [USER, 8] } } },
      verbosity: 'queryPlanner',
    });
    expect(JSON.stringify(blockPlan)).toMatch(/IXSCAN|Index Scan/);
  });

  it('reads many learners of one block, and only those', async () => {
    const assigner = new BatchAssigner(repository);
    const experiments = [experiment({ triggers: ['page_view'] })];
    // Learners 1 to 63 (block 0), each enrolled in a course of their own.
    const messages = Array.from({ length: 63 }, (_, index) => ({
      value: JSON.stringify({
        type: 'experiment-assigner.enrollment',
        user_id: index + 1,
        course_id: `course-v1:edX+L${index + 1}+1`,
        time: '2026-01-01T00:00:00Z',
      }),
      position: { source: 'block/0', offset: index },
    }));
    await assigner.process(messages, experiments);
    const wanted = [3, 9, 10, 17, 40, 63, 64];
    const read = await new LearnerStateRepository(db).latestStates(wanted);
    expect([...read.keys()].sort((a, b) => a - b)).toEqual([3, 9, 10, 17, 40, 63]);
    for (const [userId, state] of read)
      expect([...state.enrollments.keys()]).toEqual([`course-v1:edX+L${userId}+1`]);
  });

  describe("a worker, presuming new the learners above its partition's highest stored", () => {
    const experiments = [experiment({ triggers: ['enrollment'] })];
    const enrollment = (userId: number, course: string, source: string, offset: number) => ({
      value: JSON.stringify({
        type: 'experiment-assigner.enrollment',
        user_id: userId,
        username: `learner${userId}`,
        course_id: `course-v1:edX+${course}+1`,
        time: '2026-01-01T00:00:00Z',
      }),
      position: { source, offset },
    });
    const coursesOf = async (userId: number) =>
      [...((await repository.latestStates([userId])).get(userId)?.enrollments.keys() ?? [])].sort();

    /** A worker's store in a process of its own (no cache), and the state reads it sends. */
    async function worker(): Promise<{ assigner: BatchAssigner; reads: () => number }> {
      const monitored = testMongoClient({ monitorCommands: true });
      await monitored.connect();
      clients.push(monitored);
      let reads = 0;
      monitored.on('commandStarted', ({ commandName, command }) => {
        if (commandName === 'find' && command.find === 'learner_states') reads += 1;
      });
      const store = new LearnerStateRepository(monitored.db(db.databaseName), {
        presumeNewLearners: true,
      });
      return { assigner: new BatchAssigner(store), reads: () => reads };
    }
    const clients: MongoClient[] = [];
    afterEach(async () => {
      for (const client of clients.splice(0)) await client.close();
    });

    it('stores new learners without reading them, and reads those at or below the mark', async () => {
      const first = await worker();
      await first.assigner.process(
        [enrollment(10, 'A', 'input/0', 0), enrollment(12, 'A', 'input/0', 1)],
        experiments,
      );
      expect(first.reads()).toBe(0);
      expect(await coursesOf(12)).toEqual(['course-v1:edX+A+1']);

      // Another process (a restart): learner 11 is below the mark of 12, so it is read.
      const second = await worker();
      await second.assigner.process(
        [enrollment(11, 'B', 'input/0', 2), enrollment(12, 'B', 'input/0', 3)],
        experiments,
      );
      expect(second.reads()).toBeGreaterThan(0);
      expect(await coursesOf(12)).toEqual(['course-v1:edX+A+1', 'course-v1:edX+B+1']);
    });

    it('loses nothing of a learner another input stored: presumed new, they conflict and are read', async () => {
      // Learner 30 first comes through another partition (or another topic, or a replay).
      await new BatchAssigner(repository).process([enrollment(30, 'A', 'input/1', 0)], experiments);
      const { assigner, reads } = await worker();
      const result = await assigner.process(
        [enrollment(30, 'B', 'input/0', 0), enrollment(31, 'C', 'input/0', 1)],
        experiments,
      );
      expect(reads()).toBeGreaterThan(0);
      expect(await coursesOf(30)).toEqual(['course-v1:edX+A+1', 'course-v1:edX+B+1']);
      expect(await coursesOf(31)).toEqual(['course-v1:edX+C+1']);
      // One assignment message per new course, none for the course stored by the other input.
      expect(
        result.analytics.map(({ userId, properties }) => `${userId} ${properties.course_id}`),
      ).toEqual(['30 course-v1:edX+B+1', '31 course-v1:edX+C+1']);
    });
  });

  it('holds two versions per learner however often they are written', async () => {
    const LEARNERS = 2000;
    const ROUNDS = 100;
    // As the worker runs it: recently used learners' latest versions are kept in memory.
    const assigner = new BatchAssigner(new LearnerStateRepository(db, { cacheSize: LEARNERS }));
    const experiments = [experiment({ triggers: ['page_view'] })];
    const modeIn = (round: number) => (round % 2 === 0 ? 'audit' : 'verified');
    for (let round = 0; round < ROUNDS; round++) {
      // Each round changes every learner's enrollment mode: every learner's state changes, and
      // stays the same size, so that the rounds cost the same.
      const messages = Array.from({ length: LEARNERS }, (_, index) => ({
        value: JSON.stringify({
          type: 'experiment-assigner.enrollment',
          action: round === 0 ? 'activated' : 'mode_changed',
          user_id: index + 1,
          course_id: 'course-v1:edX+R+1',
          mode: modeIn(round),
          time: new Date(Date.UTC(2026, 0, 1, 0, 0, round)).toISOString(),
        }),
        position: { source: 'rounds/0', offset: round * LEARNERS + index },
      }));
      await assigner.process(messages, experiments);
    }
    // Version 0 and the latest, the version of the last round.
    expect(await db.collection('learner_states').countDocuments()).toBe(2 * LEARNERS);
    const newest = await repository.states.find({ version: ROUNDS - 1 }).toArray();
    expect(newest.map(({ userId }) => userId).sort((a, b) => a - b)).toEqual(
      Array.from({ length: LEARNERS }, (_, index) => index + 1),
    );
    const latest = await repository.latestStates([1, LEARNERS]);
    expect(
      [...latest.values()].map(({ enrollments }) => enrollments.get('course-v1:edX+R+1')?.mode),
    ).toEqual([modeIn(ROUNDS - 1), modeIn(ROUNDS - 1)]);
  }, 600_000);
});
