import { countIsCurrent } from '@assigner/domain';
import {
  AssignmentCountsQuery,
  CountSnapshotRepository,
  type CountSnapshot,
} from '@assigner/persistence';
import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';

/** How long a request waits for a count it started before it answers with the previous one. */
const COUNT_WAIT_MS = 1_500;

export type CurrentCounts =
  /** `recounting`: a newer count is under way; ask again later for it. */
  | { kind: 'counted'; snapshot: CountSnapshot; recounting: boolean }
  /** The experiment's first count has not finished yet. */
  | { kind: 'counting'; since: Date };

/**
 * An experiment's counts for the stats: a new count when the last one is not current (see
 * `countIsCurrent`), awaited for `COUNT_WAIT_MS`; a count still running then goes on in the
 * background and the last one answers meanwhile. One count per experiment at a time.
 */
@Injectable()
export class ExperimentCounts {
  private readonly running = new Map<string, { since: Date; counted: Promise<CountSnapshot> }>();
  /** The newest snapshot this process has seen per experiment: writers to the store may race. */
  private readonly newest = new Map<string, CountSnapshot>();

  constructor(
    private readonly query: AssignmentCountsQuery,
    private readonly snapshots: CountSnapshotRepository,
    private readonly logger: PinoLogger,
  ) {}

  async current(experiment: string): Promise<CurrentCounts> {
    const previous = this.keepNewest(experiment, await this.snapshots.latest(experiment));
    const running = this.running.get(experiment);
    if (previous && countIsCurrent(previous, new Date()))
      return { kind: 'counted', snapshot: previous, recounting: running !== undefined };
    const count = running ?? this.startCount(experiment);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waited'>((resolve) => {
      timer = setTimeout(() => resolve('waited'), COUNT_WAIT_MS);
    });
    const finished = await Promise.race([count.counted, waited]).finally(() => clearTimeout(timer));
    if (finished !== 'waited') return { kind: 'counted', snapshot: finished, recounting: false };
    if (previous) return { kind: 'counted', snapshot: previous, recounting: true };
    return { kind: 'counting', since: count.since };
  }

  /**
   * As `current`, but a count that is needed or under way is awaited to its end: a caller that
   * goes through experiments one by one (the sample-ratio monitor) then runs one count at a time.
   * At a million assignments a count reads the store for minutes; several at once starve requests.
   */
  async counted(experiment: string): Promise<CountSnapshot> {
    const previous = this.keepNewest(experiment, await this.snapshots.latest(experiment));
    if (previous && countIsCurrent(previous, new Date())) return previous;
    return (this.running.get(experiment) ?? this.startCount(experiment)).counted;
  }

  private startCount(experiment: string): { since: Date; counted: Promise<CountSnapshot> } {
    const since = new Date();
    const counted = (async () => {
      const tally = await this.query.count(experiment);
      const snapshot: CountSnapshot = {
        experiment,
        ...tally,
        countedAt: since,
        durationMs: Date.now() - since.getTime(),
      };
      this.keepNewest(experiment, snapshot);
      await this.snapshots.save(snapshot);
      return snapshot;
    })();
    const count = { since, counted };
    this.running.set(experiment, count);
    counted
      .catch((error: unknown) =>
        this.logger.warn({ err: error, experiment }, 'counting the assignments failed'),
      )
      .finally(() => this.running.delete(experiment));
    return count;
  }

  private keepNewest(experiment: string, snapshot: CountSnapshot | null): CountSnapshot | null {
    const known = this.newest.get(experiment);
    if (!snapshot || (known && known.countedAt >= snapshot.countedAt)) return known ?? null;
    this.newest.set(experiment, snapshot);
    return snapshot;
  }
}
