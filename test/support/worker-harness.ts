import { ensureTopics } from '@assigner/messaging';
import { InMemoryAssigner } from '@assigner/pipeline';
import { validateExperimentsFile, type AnalyticsMessage } from '@assigner/contracts';
import type { AssignmentRecord, Experiment } from '@assigner/domain';
import {
  ExperimentRepository,
  fromAssignmentDocument,
  type AssignmentCopy,
  LearnerStateRepository,
  type AssignmentDocument,
} from '@assigner/persistence';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { KafkaJSError, type Kafka, type Message } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import { userKey } from '../../workloads/synthetic-log';
import { ROOT } from './cli';
import {
  readCommitted,
  waitFor,
  testKafka,
  testMongoClient,
  uniqueName,
  type ReadMessage,
} from './real-services';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Messages in messageId order, to compare sets of messages whatever order they came in. */
export const byId = (messages: readonly AnalyticsMessage[]): AnalyticsMessage[] =>
  [...messages].sort((a, b) => a.messageId.localeCompare(b.messageId));

/** Assignments as sorted lines of what tells them apart, to compare stores with simulate. */
export const summary = (assignments: readonly AssignmentCopy[]): string[] =>
  assignments
    .map(
      (a) =>
        `${a.experiment}|${a.courseId ?? ''}|${a.userId}|${a.username}|${a.bucket}|${a.reason}|v${a.version}`,
    )
    .sort();

export function experimentsOf(file: unknown): Experiment[] {
  const result = validateExperimentsFile(file);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.value;
}

/** What `assigner simulate` gives for these lines: the reference the worker must match. */
export async function simulateLines(lines: readonly string[], experiments: readonly Experiment[]) {
  const assigner = new InMemoryAssigner(experiments);
  const { analytics, deadLetters } = await assigner.process(
    lines.map((value, index) => ({ value, position: { source: 'reference', offset: index } })),
  );
  return { analytics, invalid: deadLetters.length, assignments: assigner.assignments() };
}

/** One isolated deployment: its own topics, consumer group, database and ports. */
export class WorkerSystem {
  readonly id = uniqueName('e2e');
  readonly inputTopic = `${this.id}-input`;
  readonly analyticsTopic = `${this.id}-analytics`;
  readonly dlqTopic = `${this.id}-dlq`;
  readonly groupId = `${this.id}-workers`;
  readonly database = this.id.replaceAll('-', '_');
  readonly kafka: Kafka = testKafka();
  readonly mongo: MongoClient = testMongoClient();
  private readonly workers = new Set<ChildProcess>();

  constructor(readonly partitions = 6) {}

  async setUp(experiments: unknown): Promise<void> {
    await ensureTopics(
      this.kafka,
      [this.inputTopic, this.analyticsTopic, this.dlqTopic].map((topic) => ({
        topic,
        setting: 'test',
        numPartitions: this.partitions,
      })),
    );
    await this.applyExperiments(experimentsOf(experiments));
  }

  async applyExperiments(experiments: readonly Experiment[]): Promise<void> {
    const repository = new ExperimentRepository(this.mongo.db(this.database));
    for (const experiment of experiments) await repository.save(experiment, { actor: 'test' });
  }

  /** Where the worker started under this name logs. */
  logOf(name: string): string {
    return join(ROOT, '.cache', 'logs', `${this.id}-${name}.log`);
  }

  /** Starts one worker process; resolves when it answers /health. */
  async startWorker(name = 'worker', env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
    const port = await freePort();
    const log = createWriteStream(this.logOf(name), {
      flags: 'a',
    });
    await once(log, 'open');
    const worker = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'apps', 'worker', 'src', 'main.js')],
      {
        env: {
          ...process.env,
          INPUT_TOPICS: this.inputTopic,
          ANALYTICS_TOPIC: this.analyticsTopic,
          DLQ_TOPIC: this.dlqTopic,
          WORKER_GROUP_ID: this.groupId,
          MONGO_DB: this.database,
          TOPIC_PARTITIONS: String(this.partitions),
          WORKER_HTTP_PORT: String(port),
          EXPERIMENTS_REFRESH_MS: '500',
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
          ...env,
        },
        stdio: ['ignore', log, log],
      },
    );
    this.workers.add(worker);
    // Jest may exit without running afterEach (a timeout, Ctrl-C): leave no worker behind.
    const killOnExit = () => worker.kill('SIGKILL');
    process.once('exit', killOnExit);
    worker.once('exit', () => {
      this.workers.delete(worker);
      process.removeListener('exit', killOnExit);
    });
    await waitFor(
      `${name} health`,
      async () =>
        (await fetch(`http://127.0.0.1:${port}/health`)
          .then((r) => r.status)
          .catch(() => 0)) === 200,
      60_000,
    );
    return worker;
  }

  async stopWorker(worker: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = once(worker, 'exit');
    worker.kill(signal);
    await exited;
  }

  async produce(lines: readonly string[], keyed: boolean): Promise<void> {
    const producer = this.kafka.producer();
    await producer.connect();
    for (let start = 0; start < lines.length; start += 2000) {
      const messages: Message[] = lines
        .slice(start, start + 2000)
        .map((value) => ({ key: keyed ? userKey(value) : null, value }));
      await producer.send({ topic: this.inputTopic, messages });
    }
    await producer.disconnect();
  }

  /** True once the group has committed every input offset. */
  async consumedEverything(): Promise<boolean> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(this.inputTopic);
      const [committed] = await admin.fetchOffsets({
        groupId: this.groupId,
        topics: [this.inputTopic],
      });
      return ends.every(({ partition, high }) => {
        const done = committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
        return Number(high) === 0 || Number(done) >= Number(high);
      });
    } catch (error) {
      // Right after a broker restart the group coordinator is still loading: not done yet.
      if (error instanceof KafkaJSError && error.retriable) return false;
      throw error;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Every message of a topic that a read_committed consumer sees: waits for at least `expected`
   * messages, then a little longer, so that extra (duplicate) messages would be seen too.
   */
  async readAll(topic: string, expected = 0): Promise<ReadMessage[]> {
    return readCommitted(this.kafka, topic, expected);
  }

  async analytics(expected = 0): Promise<AnalyticsMessage[]> {
    return (await this.readAll(this.analyticsTopic, expected)).map(
      ({ value }) => JSON.parse(value) as AnalyticsMessage,
    );
  }

  /** The assignments as the store decides them: from the learners' latest states. */
  async storedAssignments() {
    const assignments: AssignmentRecord[] = [];
    const states = new LearnerStateRepository(this.mongo.db(this.database));
    for await (const state of states.latestStatesInOrder())
      assignments.push(...state.assignments.values());
    return assignments;
  }

  /** The assignments' lookup copies (the `assignments` collection). */
  async lookupAssignments() {
    const documents = await this.mongo
      .db(this.database)
      .collection<AssignmentDocument>('assignments')
      .find()
      .toArray();
    return documents.map(fromAssignmentDocument);
  }

  /** Stops one of the local services (SIGTERM) and starts it again on the same data. */
  static restartService(name: 'kafka' | 'ferretdb' | 'registry'): void {
    WorkerSystem.stopService(name);
    WorkerSystem.startServices();
  }

  static stopService(name: 'kafka' | 'ferretdb' | 'registry'): void {
    WorkerSystem.services(['stop', name]);
  }

  /** Starts the local services that are not running. */
  static startServices(): void {
    WorkerSystem.services(['start']);
  }

  private static services(command: string[]): void {
    if (!process.env.LOCAL_SERVICES) {
      throw new Error(
        'restart tests need the local services that `npm test` starts (LOCAL_SERVICES=1)',
      );
    }
    // Without these the services script would defer to them and start nothing.
    const env = { ...process.env };
    delete env.KAFKA_BROKERS;
    delete env.MONGO_URL;
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'scripts', 'services.mjs'), ...command],
      {
        encoding: 'utf8',
        env,
      },
    );
    if (result.status !== 0)
      throw new Error(`services ${command.join(' ')} failed: ${result.stderr}`);
  }

  async tearDown(): Promise<void> {
    await Promise.all([...this.workers].map((worker) => this.stopWorker(worker, 'SIGKILL')));
    // The database is left in place: FerretDB 1.24 can crash (SIGBUS in SQLite's WAL) when a
    // database is dropped while writes of a just-killed worker are still in flight.
    await this.mongo.close();
    const admin = this.kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [this.inputTopic, this.analyticsTopic, this.dlqTopic] })
      .catch(() => undefined);
    await admin.disconnect();
  }
}
