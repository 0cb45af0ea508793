import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BENCH_EXPERIMENTS, syntheticTrackingLog } from '../../workloads/synthetic-log';
import {
  COMMIT_REFUSED,
  HistoryDeployment,
  HOLDING_COPIES,
  NO_MISMATCH,
  OUTLAST_TRANSACTION_MS,
  sleep,
  STEPS,
  timeOfLine,
  removeHistory,
  writeHistory,
  type History,
} from '../support/history-deployment';
import { type AsyncRun } from '../support/cli';
import { type StoreFault } from '../support/store-fault-proxy';
import { waitFor } from '../support/real-services';
import { WorkerSystem } from '../support/worker-harness';

// Every failure step of a writer, each followed by every continuation: the continuations of one
// step run at once, each on a deployment of its own (topics, group, database, store proxy).
jest.setTimeout(900_000);

const LINES = [...syntheticTrackingLog({ lines: 8_000, users: 800, seed: 29 })];

/** How a replay fails in its first chunk, and whether the store then holds unpublished changes. */
interface ReplayFailure {
  step: string;
  /** Makes the failure on each deployment, all at once. */
  fail(deployments: readonly HistoryDeployment[]): Promise<void>;
  /** Unset where it depends on when the failure struck. */
  leftovers?: boolean;
}

/** The same failure on each deployment, independently. */
const onEach =
  (fail: (deployment: HistoryDeployment) => Promise<void>) =>
  async (deployments: readonly HistoryDeployment[]) => {
    await Promise.all(deployments.map(fail));
  };

/** A failed replay must say why in one line, and exit 1. */
function expectFailedWithOneLine(run: AsyncRun, why: RegExp): void {
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('assigner: '));
  if (run.status !== 1 || errors.length !== 1 || !why.test(errors[0]!))
    throw new Error(`expected exit 1 with one line matching ${why}:\n${run.stderr}`);
}

const REPLAY_FAILURES: ReplayFailure[] = [
  ...[STEPS.beforeStore, STEPS.afterStore, STEPS.sending].map(({ step, fault }) => ({
    step: `killed ${step}`,
    fail: onEach((deployment) => deployment.replayKilledAt(fault, ['--dead-letters'])),
    leftovers: fault !== STEPS.beforeStore.fault,
  })),
  {
    step: 'whose commit is refused, the broker having aborted its transaction at the timeout',
    fail: onEach(async (deployment) =>
      expectFailedWithOneLine(
        await deployment.replayOutlastingItsTransaction(['--dead-letters']),
        COMMIT_REFUSED,
      ),
    ),
    leftovers: true,
  },
  {
    step: "killed after its commit, before it closed the chunk's record",
    fail: onEach((deployment) =>
      deployment.replayKilledAt({ command: 'delete', collection: 'open_chunks', when: 'before' }, [
        '--dead-letters',
      ]),
    ),
    leftovers: false,
  },
  {
    step: 'whose dead-letter topic is deleted while it stores its chunk',
    fail: onEach(async (deployment) => {
      const struckNow = deployment.struck({
        command: 'insert',
        collection: 'learner_states',
        when: 'held',
      });
      const run = deployment.startReplay(['--dead-letters'], 'replay.json', true);
      try {
        await struckNow;
        await deployment.deleteTopic(deployment.system.dlqTopic);
      } finally {
        deployment.proxy.release();
      }
      expectFailedWithOneLine(await run.done, /does not host this topic-partition/);
    }),
    leftovers: true,
  },
  {
    step: 'stopped by the broker stopping mid-chunk',
    fail: async (deployments) => {
      const runs = deployments.map((deployment) => deployment.startReplay(['--dead-letters']));
      await Promise.all(deployments.map((deployment) => deployment.chunkOpened()));
      WorkerSystem.stopService('kafka');
      let ended: AsyncRun[];
      try {
        ended = await Promise.all(runs.map(({ done }) => done));
      } finally {
        WorkerSystem.startServices();
      }
      // The continuations start at once: a writer fencing a stopped replay's transaction waits
      // until the restarted broker has aborted it.
      for (const run of ended) expectFailedWithOneLine(run, /./);
    },
  },
];

/** What may follow a replay's failure, and what must hold afterwards. */
interface Continuation {
  name: string;
  run(deployment: HistoryDeployment): Promise<unknown>;
  /** All of `simulate`'s messages for the history, or those of the changes stored. */
  published: 'history' | 'stored';
  /** Every dead letter of the file, or only none twice. */
  deadLetters: 'all' | 'none twice';
}

const consumed = (deployment: HistoryDeployment) =>
  waitFor('the history consumed', () => deployment.system.consumedEverything(), 300_000);
const noOpenChunk = (deployment: HistoryDeployment) =>
  waitFor('no open chunk', async () => (await deployment.openChunks()) === 0, 120_000);

const REPLAY_CONTINUATIONS: Continuation[] = [
  {
    name: 'the same command',
    run: (deployment) => deployment.replay(['--dead-letters']),
    published: 'history',
    deadLetters: 'all',
  },
  {
    name: 'a rerun with other options (no --dead-letters)',
    run: (deployment) => deployment.replay([], 'other.json'),
    published: 'history',
    deadLetters: 'none twice',
  },
  {
    name: 'another replay, of the first half of the history',
    run: (deployment) =>
      deployment.replay(['--to-time', timeOfLine(LINES, LINES.length / 2)], 'half.json'),
    published: 'stored',
    deadLetters: 'none twice',
  },
  {
    name: 'a worker consuming the same history',
    run: async (deployment) => {
      await deployment.produceHistory();
      await deployment.system.startWorker();
      await consumed(deployment);
      await noOpenChunk(deployment);
    },
    published: 'history',
    deadLetters: 'none twice',
  },
  {
    name: 'nothing but time (a worker with no input)',
    run: async (deployment) => {
      await deployment.system.startWorker();
      await noOpenChunk(deployment);
    },
    published: 'stored',
    deadLetters: 'none twice',
  },
];

/** A worker started through its deployment's store proxy, with the history produced to it. */
interface FailingWorker {
  deployment: HistoryDeployment;
  worker: ChildProcess;
  /** Resolves once the proxy's fault, armed before the worker started, has struck. */
  struck: Promise<void>;
}

/** How a worker fails in a batch; afterwards it is gone, that batch uncommitted. */
interface WorkerFailure {
  step: string;
  fault: StoreFault;
  /** Makes the failure on each deployment's worker, all at once. */
  fail(failing: readonly FailingWorker[]): Promise<void>;
  /** Whether the store then holds unpublished changes. */
  leftovers: boolean;
}

const onEachWorker =
  (fail: (failing: FailingWorker) => Promise<void>) =>
  async (failing: readonly FailingWorker[]) => {
    await Promise.all(failing.map(fail));
  };

const killed = ({ deployment, worker }: FailingWorker) =>
  deployment.system.stopWorker(worker, 'SIGKILL');

/** Resolves once the failing worker has logged this. */
const logged = ({ deployment }: FailingWorker, what: RegExp) =>
  waitFor(
    `the worker to log ${what}`,
    () => Promise.resolve(what.test(readFileSync(deployment.system.logOf('failing'), 'utf8'))),
    120_000,
  );

const WORKER_FAILURES: WorkerFailure[] = [
  ...[STEPS.beforeStore, STEPS.afterStore, STEPS.sending].map(({ step, fault }) => ({
    step: `killed ${step}`,
    fault,
    fail: onEachWorker(async (failing) => {
      await failing.struck;
      await killed(failing);
    }),
    leftovers: fault !== STEPS.beforeStore.fault,
  })),
  {
    step: 'whose commit is refused, the broker having aborted its transaction at the timeout, killed then',
    fault: HOLDING_COPIES,
    fail: onEachWorker(async (failing) => {
      await failing.deployment.heldPastTransactionTimeout(failing.struck);
      // Before the consumer's restart 5 s later, which would do the batch again.
      await logged(failing, COMMIT_REFUSED);
      await killed(failing);
    }),
    leftovers: true,
  },
  {
    step: 'whose dead-letter topic is deleted while it stores its batch, killed once its commit failed',
    fault: { command: 'insert', collection: 'learner_states', when: 'held' },
    fail: onEachWorker(async (failing) => {
      const { deployment } = failing;
      await failing.struck;
      try {
        await deployment.deleteTopic(deployment.system.dlqTopic);
      } finally {
        deployment.proxy.release();
      }
      await logged(failing, /does not host this topic-partition/);
      await killed(failing);
    }),
    leftovers: true,
  },
  {
    step: 'stopped by the broker stopping mid-batch, killed while the broker is down',
    fault: HOLDING_COPIES,
    fail: async (failing) => {
      await Promise.all(failing.map(({ struck }) => struck));
      WorkerSystem.stopService('kafka');
      try {
        await Promise.all(failing.map(killed));
      } finally {
        for (const { deployment } of failing) deployment.proxy.release();
        WorkerSystem.startServices();
      }
    },
    leftovers: true,
  },
];

interface WorkerContinuation {
  name: string;
  /** Another worker of the group is running when the failing one starts. */
  companion: boolean;
  run(deployment: HistoryDeployment): Promise<unknown>;
}

const WORKER_CONTINUATIONS: WorkerContinuation[] = [
  {
    name: 'the worker started again',
    companion: false,
    run: (deployment) => deployment.system.startWorker('again'),
  },
  {
    name: 'the worker started again with other settings (one partition at a time, batches of 64 KiB)',
    companion: false,
    run: (deployment) =>
      deployment.system.startWorker('again', {
        WORKER_PARTITION_CONCURRENCY: '1',
        WORKER_BATCH_MAX_BYTES: '65536',
      }),
  },
  {
    name: 'a replay of the same history, then the worker again',
    companion: false,
    run: async (deployment) => {
      await deployment.replay();
      await deployment.system.startWorker('again');
    },
  },
  {
    name: 'nothing but time (the group’s other worker takes the partitions over)',
    companion: true,
    run: () => Promise.resolve(),
  },
];

describe('exactly once after every failure step and every continuation', () => {
  let history: History;

  beforeAll(async () => {
    history = await writeHistory(LINES, BENCH_EXPERIMENTS, 'exactly-once-matrix-');
  });
  afterAll(() => removeHistory(history));

  /**
   * One deployment per continuation, torn down whatever happens: `first` on all of them, then
   * `each` on each at once.
   */
  async function onDeployments<T>(
    count: number,
    first: (deployments: readonly HistoryDeployment[]) => Promise<void>,
    each: (deployment: HistoryDeployment, index: number) => Promise<T>,
  ): Promise<T[]> {
    const deployments: HistoryDeployment[] = [];
    try {
      // One after the other: the broker's metadata of topics made at once can lag behind.
      for (let made = 0; made < count; made++)
        deployments.push(await HistoryDeployment.create(history, BENCH_EXPERIMENTS));
      await first(deployments);
      return await Promise.all(deployments.map(each));
    } finally {
      await Promise.all(deployments.map((deployment) => deployment.tearDown()));
    }
  }

  it.each(REPLAY_FAILURES)(
    'a replay $step, then each continuation: every stored change published once',
    async ({ fail, leftovers }) => {
      const outcomes = await onDeployments(
        REPLAY_CONTINUATIONS.length,
        fail,
        async (deployment, index) => {
          const continuation = REPLAY_CONTINUATIONS[index]!;
          const left = (await deployment.storedUnpublished()) > 0;
          await continuation.run(deployment);
          return [
            continuation.name,
            {
              leftovers: left,
              analytics:
                continuation.published === 'history'
                  ? await deployment.referenceMismatch()
                  : await deployment.storedMismatch(),
              deadLetters: await deployment.deadLetterMismatch(continuation.deadLetters === 'all'),
              openChunks: await deployment.openChunks(),
            },
          ] as const;
        },
      );
      expect(Object.fromEntries(outcomes)).toEqual(
        Object.fromEntries(
          REPLAY_CONTINUATIONS.map(({ name }) => [
            name,
            {
              leftovers: leftovers ?? (expect.any(Boolean) as unknown),
              analytics: NO_MISMATCH,
              deadLetters: { twice: 0, missing: 0 },
              openChunks: 0,
            },
          ]),
        ),
      );
    },
  );

  it.each(WORKER_FAILURES)(
    'a worker $step, then each continuation: each of the history’s messages once',
    async ({ fault, fail, leftovers }) => {
      const outcomes = await onDeployments(
        WORKER_CONTINUATIONS.length,
        async (deployments) => {
          const failing = await Promise.all(
            deployments.map(async (deployment, index): Promise<FailingWorker> => {
              const { system } = deployment;
              if (WORKER_CONTINUATIONS[index]!.companion) await system.startWorker('companion');
              const struck = deployment.struck(fault);
              // Awaited by the failure; until then, a failure elsewhere must not go unhandled.
              struck.catch(() => undefined);
              const worker = await system.startWorker('failing', {
                MONGO_URL: deployment.proxy.url,
              });
              await deployment.produceHistory();
              return { deployment, worker, struck };
            }),
          );
          await fail(failing);
        },
        async (deployment, index) => {
          const continuation = WORKER_CONTINUATIONS[index]!;
          const left = continuation.companion
            ? undefined
            : (await deployment.storedUnpublished()) > 0;
          await continuation.run(deployment);
          await consumed(deployment);
          return [
            continuation.name,
            { leftovers: left, analytics: await deployment.referenceMismatch() },
          ] as const;
        },
      );
      expect(Object.fromEntries(outcomes)).toEqual(
        Object.fromEntries(
          WORKER_CONTINUATIONS.map(({ name, companion }) => [
            name,
            { leftovers: companion ? undefined : leftovers, analytics: NO_MISMATCH },
          ]),
        ),
      );
    },
  );

  it('a worker whose batch outlasts its transaction, which the broker aborts: its commit is refused, it does the batch again; each message once', async () => {
    const [outcome] = await onDeployments(
      1,
      () => Promise.resolve(),
      async (deployment) => {
        const { system } = deployment;
        const struckNow = deployment.struck(HOLDING_COPIES);
        await system.startWorker('held', { MONGO_URL: deployment.proxy.url });
        await deployment.produceHistory();
        let left: boolean;
        try {
          await struckNow;
          // States stored and sends under way, the transaction open.
          left = (await deployment.storedUnpublished()) > 0;
          await sleep(OUTLAST_TRANSACTION_MS);
        } finally {
          deployment.proxy.release();
        }
        await consumed(deployment);
        return {
          leftovers: left,
          analytics: await deployment.referenceMismatch(),
          commitRefused: COMMIT_REFUSED.test(readFileSync(system.logOf('held'), 'utf8')),
        };
      },
    );
    expect(outcome).toEqual({ leftovers: true, analytics: NO_MISMATCH, commitRefused: true });
  });
});
