import { analyticsMessageOf, type AnalyticsMessage } from '@assigner/contracts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaySummaryOf, startAssigner, type AsyncRun } from './cli';
import { waitFor } from './real-services';
import { StoreFaultProxy, type StoreFault } from './store-fault-proxy';
import { experimentsOf, simulateLines, WorkerSystem } from './worker-harness';

/** A history as a file, and what `simulate` gives for it. */
export interface History {
  lines: readonly string[];
  file: string;
  /** Where checkpoints go. */
  dir: string;
  reference: Awaited<ReturnType<typeof simulateLines>>;
}

/** The history in a file of its own, in a directory of its own (remove with `removeHistory`). */
export async function writeHistory(
  lines: readonly string[],
  experiments: unknown,
  prefix: string,
): Promise<History> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'history.log');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { lines, file, dir, reference: await simulateLines(lines, experimentsOf(experiments)) };
}

export function removeHistory(history: History): void {
  rmSync(history.dir, { recursive: true, force: true });
}

/** The steps of a chunk or a batch, as the store sees them (see StoreFault). */
export const STEPS = {
  beforeStore: {
    step: 'before the store write',
    fault: { command: 'insert', collection: 'learner_states', when: 'before' },
  },
  afterStore: {
    step: 'after the store write, before the first send',
    fault: { command: 'insert', collection: 'learner_states', when: 'after' },
  },
  sending: {
    step: 'while the sends go out, before the commit',
    fault: { command: 'insert', collection: 'assignments', when: 'after' },
  },
} satisfies Record<string, { step: string; fault: StoreFault }>;

/** A chunk's or batch's states stored, its sends under way, its transaction open. */
export const HOLDING_COPIES: StoreFault = {
  command: 'insert',
  collection: 'assignments',
  when: 'held',
};

/** Held past TRANSACTION_TIMEOUT_MS (30 s) and the broker's sweep of timed-out transactions (10 s). */
export const OUTLAST_TRANSACTION_MS = 45_000;

/** How the broker refuses the commit of a transaction it aborted at its timeout. */
export const COMMIT_REFUSED = /epoch|fenced|INVALID_TXN_STATE/i;

/** Longer than OPEN_CHUNK_STALE_AFTER_MS: a killed replay's chunk may be taken over. */
export const QUIET_LONG_ENOUGH_MS = 21_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each message's id, and how many times it was read: every count must be 1. */
function countsById(messages: readonly AnalyticsMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { messageId } of messages) counts.set(messageId, (counts.get(messageId) ?? 0) + 1);
  return counts;
}

/** What is wrong with a set of read messages against the ids expected: each must be there once. */
export interface Mismatch {
  twice: number;
  missing: number;
  unexpected: number;
}

function mismatchOf(read: readonly AnalyticsMessage[], expected: ReadonlySet<string>): Mismatch {
  const counts = countsById(read);
  return {
    twice: [...counts.values()].filter((count) => count > 1).length,
    missing: [...expected].filter((id) => !counts.has(id)).length,
    unexpected: [...counts.keys()].filter((id) => !expected.has(id)).length,
  };
}

/**
 * A fresh deployment (experiments applied, no output topic yet) with its own worker group,
 * database and store fault proxy, and the replays and workers a failure test runs on it.
 */
export class HistoryDeployment {
  readonly system = new WorkerSystem(3);

  private constructor(
    readonly history: History,
    readonly proxy: StoreFaultProxy,
    private readonly experiments: unknown,
  ) {}

  static async create(history: History, experiments: unknown): Promise<HistoryDeployment> {
    const proxy = await StoreFaultProxy.start(process.env.MONGO_URL!);
    const deployment = new HistoryDeployment(history, proxy, experiments);
    try {
      await deployment.setUp();
    } catch (error) {
      await deployment.tearDown().catch(() => undefined);
      throw error;
    }
    return deployment;
  }

  private async setUp(): Promise<void> {
    const { system } = this;
    await system.setUp(this.experiments);
    // A fresh deployment: the experiments are applied, no output topic exists yet.
    const admin = system.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [system.analyticsTopic, system.dlqTopic] });
      // Deleting takes a moment to reach the broker's metadata: a replay must find them missing.
      await waitFor(
        'the topics deleted',
        async () => {
          const topics = await admin.listTopics();
          return !topics.includes(system.analyticsTopic) && !topics.includes(system.dlqTopic);
        },
        60_000,
      );
    } finally {
      await admin.disconnect();
    }
  }

  async tearDown(): Promise<void> {
    this.proxy.release();
    await this.system.tearDown();
    await this.proxy.close();
  }

  env(store = process.env.MONGO_URL): NodeJS.ProcessEnv {
    return {
      ...process.env,
      MONGO_URL: store,
      MONGO_DB: this.system.database,
      ANALYTICS_TOPIC: this.system.analyticsTopic,
      DLQ_TOPIC: this.system.dlqTopic,
      TOPIC_PARTITIONS: '3',
    };
  }

  /** A replay of the history file, its checkpoint named `checkpoint`; through the proxy if asked. */
  startReplay(extra: string[] = [], checkpoint = 'replay.json', viaProxy = false) {
    return startAssigner(
      [
        'replay',
        '--events',
        this.history.file,
        '--checkpoint',
        join(this.history.dir, `${this.system.id}-${checkpoint}`),
        '--chunk',
        String(Math.ceil(this.history.lines.length / 5)),
        ...extra,
      ],
      this.env(viaProxy ? this.proxy.url : undefined),
    );
  }

  /** A replay of the history as produced to the worker's input topic. */
  startTopicReplay(viaProxy = false) {
    return startAssigner(
      [
        'replay',
        '--topic',
        this.system.inputTopic,
        '--checkpoint',
        join(this.history.dir, `${this.system.id}-topic.json`),
      ],
      this.env(viaProxy ? this.proxy.url : undefined),
    );
  }

  /** The history's events on the worker's input topic, keyed by learner. */
  produceHistory(): Promise<void> {
    return this.system.produce(this.history.lines, true);
  }

  /** Arms the proxy's fault; resolves once it has struck. */
  async struck(fault: StoreFault): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the fault never struck')), 120_000);
    });
    try {
      await Promise.race([this.proxy.arm(fault), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a replay through the proxy and kills it (-9) once the fault has struck. */
  async replayKilledAt(fault: StoreFault, extra: string[] = []): Promise<void> {
    const struckNow = this.struck(fault);
    const run = this.startReplay(extra, 'replay.json', true);
    await struckNow;
    run.child.kill('SIGKILL');
    await run.done;
  }

  /**
   * Starts a replay through the proxy, holds its chunk's lookup copies (its transaction open)
   * until the broker has aborted the transaction at its timeout, then lets it go on: its commit
   * is refused. Resolves with how the replay ended.
   */
  async replayOutlastingItsTransaction(extra: string[] = []): Promise<AsyncRun> {
    const struckNow = this.struck(HOLDING_COPIES);
    const run = this.startReplay(extra, 'replay.json', true);
    await this.heldPastTransactionTimeout(struckNow);
    return run.done;
  }

  /**
   * Once a `held` fault has struck, keeps the writer held until the broker has aborted its open
   * transaction at the timeout, then lets it go on (to a commit the broker refuses).
   */
  async heldPastTransactionTimeout(struck: Promise<void>): Promise<void> {
    try {
      await struck;
      await sleep(OUTLAST_TRANSACTION_MS);
    } finally {
      this.proxy.release();
    }
  }

  /** Deletes one of the deployment's topics; resolves once the broker no longer lists it. */
  async deleteTopic(topic: string): Promise<void> {
    const admin = this.system.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic] });
      await waitFor(
        'the topic deleted',
        async () => !(await admin.listTopics()).includes(topic),
        60_000,
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** Chunks not seen to commit; those taken over are committed, and only watched. */
  openChunks(): Promise<number> {
    return this.system.mongo
      .db(this.system.database)
      .collection('open_chunks')
      .countDocuments({ takenOver: { $exists: false } });
  }

  /** Resolves once a replay has a chunk open, that is, one about to be stored or being stored. */
  chunkOpened(): Promise<void> {
    return waitFor('an open chunk', async () => (await this.openChunks()) > 0, 120_000, 20);
  }

  /** The messages of every change the store holds, as the analytics topic must hold them. */
  async storedChangeIds(): Promise<Set<string>> {
    return new Set(
      (await this.system.storedAssignments()).flatMap((assignment) =>
        assignment.history.map((change) => analyticsMessageOf(assignment, change).messageId),
      ),
    );
  }

  /** How many stored changes have no committed message: the failure's leftovers. */
  async storedUnpublished(): Promise<number> {
    const published = new Set((await this.system.analytics()).map(({ messageId }) => messageId));
    return [...(await this.storedChangeIds())].filter((id) => !published.has(id)).length;
  }

  /** Every stored change's message on the analytics topic once, and no other message. */
  async storedMismatch(): Promise<Mismatch> {
    const stored = await this.storedChangeIds();
    return mismatchOf(await this.system.analytics(stored.size), stored);
  }

  /** `simulate`'s messages for the whole history on the analytics topic once, and no other. */
  async referenceMismatch(): Promise<Mismatch> {
    const { analytics } = this.history.reference;
    return mismatchOf(
      await this.system.analytics(analytics.length),
      new Set(analytics.map(({ messageId }) => messageId)),
    );
  }

  /**
   * The history file's dead letters (those a replay sent) read more than once, and, when all were
   * asked for, those missing.
   */
  async deadLetterMismatch(all: boolean): Promise<{ twice: number; missing: number }> {
    const { invalid } = this.history.reference;
    const lines = (await this.system.readAll(this.system.dlqTopic, all ? invalid : 0))
      .filter(({ headers }) => 'dlq-source-line' in headers)
      .map(({ headers }) => headers['dlq-source-line']);
    const distinct = new Set(lines).size;
    return { twice: lines.length - distinct, missing: all ? invalid - distinct : 0 };
  }

  /** Runs a replay to its end; throws with its stderr if it failed. */
  async replay(extra: string[] = [], checkpoint = 'replay.json') {
    return replaySummaryOf(await this.startReplay(extra, checkpoint).done);
  }
}

/** The time of the first line from this index on that has one. */
export function timeOfLine(lines: readonly string[], from: number): string {
  for (const line of lines.slice(from)) {
    try {
      const { time } = JSON.parse(line) as { time?: unknown };
      if (typeof time === 'string') return time;
    } catch {
      // an invalid line: try the next
    }
  }
  throw new Error(`no line from ${from} on has a time`);
}

export const NO_MISMATCH: Mismatch = { twice: 0, missing: 0, unexpected: 0 };
