import type { DeadLetter } from '@assigner/contracts';
import { randomUUID } from 'node:crypto';
import { Binary, type Collection, type Db } from 'mongodb';
import { retryTransient } from './mongo-errors';

/**
 * How often a writer with a chunk open says it is still at work on it, and how long after its
 * last word a chunk counts as left behind, for another writer to take over. A chunk is open from
 * just before its states are stored until its transaction commits: seconds, on a live writer.
 */
export const OPEN_CHUNK_KEEP_ALIVE_MS = 5_000;
export const OPEN_CHUNK_STALE_AFTER_MS = 20_000;
/**
 * How long a chunk taken over from a quiet writer is watched: the writer may only be paused, and
 * store more of the chunk once it goes on (Kafka fences its transaction, not its store writes).
 */
export const TAKEN_OVER_WATCH_MS = 60 * 60_000;

/** The Kafka transaction a chunk commits in, and where it commits its progress. */
export interface ChunkWriter {
  /** With `<topic>-<partition>` of the progress, the producer's transactional id. */
  transactionalIdPrefix: string;
  /** The consumer group whose committed offset is the writer's progress. */
  groupId: string;
  analyticsTopic: string;
  dlqTopic: string;
}

/** A chunk's transaction commits `nextOffset` as the group's offset of this topic partition. */
export interface ChunkProgress {
  topic: string;
  partition: number;
  nextOffset: number;
}

/**
 * A chunk some writer has stored, or is storing, and whose transaction has not been seen to
 * commit. Its changes are those its learners' states hold at its positions; they and its dead
 * letters are published once the chunk's transaction commits. One document per attempt at
 * storing the chunk.
 */
export interface OpenChunkDocument {
  _id: string;
  writer: ChunkWriter;
  progress: ChunkProgress;
  /** The positions the chunk's events were applied at: `from` up to `progress.nextOffset`. */
  source: string;
  from: number;
  /** The learners whose states this attempt stores changes of. */
  learners: number[];
  deadLetters: DeadLetter[];
  openedAt: Date;
  /** The writer's last word that it is still at work on the chunk. */
  aliveAt: Date;
  /** The writer gave up on the chunk (an error): any writer may take it over at once. */
  abandoned?: boolean;
  /** Another writer published and committed the chunk while its own writer was quiet. */
  takenOver?: TakenOver;
}

export interface TakenOver {
  at: Date;
  /** When its stored changes were last compared with what was published. */
  checkedAt: Date;
  /** The messages published for the chunk: changes stored later are published apart. */
  messageIds: string[];
}

/** The chunks whose transaction has not been seen to commit. A handful at any time. */
export class OpenChunkRepository {
  private readonly chunks: Collection<OpenChunkDocument>;

  constructor(db: Db) {
    this.chunks = db.collection('open_chunks');
  }

  /** Opens a chunk: record each attempt before its states are stored, then commit or abort. */
  begin(
    writer: ChunkWriter,
    progress: ChunkProgress,
    positions: { source: string; from: number },
  ): OpenChunk {
    return new OpenChunk(this.chunks, writer, progress, positions);
  }

  async all(): Promise<OpenChunkDocument[]> {
    const documents = await retryTransient(() => this.chunks.find().toArray());
    return documents.map((document) => ({
      ...document,
      deadLetters: document.deadLetters.map(({ message, ...deadLetter }) => ({
        ...deadLetter,
        message: { ...message, value: asBytes(message.value), key: asBytes(message.key) },
      })),
    }));
  }

  /**
   * Forgets the writer's chunks on this progress partition that its committed offset covers,
   * but those taken over, which are watched (see `TAKEN_OVER_WATCH_MS`).
   */
  async closeCommitted(
    writer: ChunkWriter,
    progress: Omit<ChunkProgress, 'nextOffset'>,
    committed: number,
  ): Promise<void> {
    await retryTransient(() =>
      this.chunks.deleteMany({
        ...sameWriterAndPartition(writer, progress),
        ...committedBy(committed),
      }),
    );
  }

  /** These attempts' chunk was published by another writer: watch it for what its own stores. */
  async markTakenOver(ids: readonly string[], takenOver: TakenOver): Promise<void> {
    await retryTransient(() =>
      this.chunks.updateMany({ _id: { $in: [...ids] } }, { $set: { takenOver } }),
    );
  }

  async forget(ids: readonly string[]): Promise<void> {
    await retryTransient(() => this.chunks.deleteMany({ _id: { $in: [...ids] } }));
  }
}

/** Chunks committed as of this offset, and not taken over. */
const committedBy = (offset: number) => ({
  'progress.nextOffset': { $lte: offset },
  takenOver: { $exists: false },
});

/** Kafka values and keys stored as bytes read back as BSON binaries. */
function asBytes<T>(value: T | Binary): T | Buffer {
  return value instanceof Binary ? Buffer.from(value.buffer) : value;
}

const sameWriterAndPartition = (
  writer: ChunkWriter,
  { topic, partition }: Omit<ChunkProgress, 'nextOffset'>,
) => ({
  'writer.transactionalIdPrefix': writer.transactionalIdPrefix,
  'progress.topic': topic,
  'progress.partition': partition,
});

/** One writer's open chunk, while it stores and publishes it. */
export class OpenChunk {
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly chunks: Collection<OpenChunkDocument>,
    private readonly writer: ChunkWriter,
    private readonly progress: ChunkProgress,
    private readonly positions: { source: string; from: number },
  ) {
    this.keepAlive = setInterval(
      () => void this.touch().catch(() => undefined),
      OPEN_CHUNK_KEEP_ALIVE_MS,
    );
    this.keepAlive.unref();
  }

  /** Before an attempt stores these learners' states: once it has, its changes are known here. */
  async record(learners: readonly number[], deadLetters: readonly DeadLetter[]): Promise<void> {
    if (learners.length === 0 && deadLetters.length === 0) return;
    const now = new Date();
    await retryTransient(() =>
      this.chunks.insertOne({
        _id: randomUUID(),
        writer: this.writer,
        progress: this.progress,
        source: this.positions.source,
        from: this.positions.from,
        learners: [...learners],
        deadLetters: [...deadLetters],
        openedAt: now,
        aliveAt: now,
      }),
    );
  }

  /**
   * After the transaction committed: the chunk is closed. A failure to forget it here loses
   * nothing: whoever finds it later sees its progress committed and forgets it then.
   */
  async commit(): Promise<void> {
    clearInterval(this.keepAlive);
    await this.chunks
      .deleteMany({ ...this.filter(), ...committedBy(this.progress.nextOffset) })
      .catch(() => undefined);
  }

  /**
   * After the transaction failed: what was stored is left for another writer to publish at once.
   * If this write fails too (the store is down), the chunk is taken over once it goes stale.
   */
  async abort(): Promise<void> {
    clearInterval(this.keepAlive);
    await this.chunks
      .updateMany(this.thisChunk(), { $set: { abandoned: true } })
      .catch(() => undefined);
  }

  private async touch(): Promise<void> {
    await this.chunks.updateMany(this.thisChunk(), { $set: { aliveAt: new Date() } });
  }

  private filter() {
    return sameWriterAndPartition(this.writer, this.progress);
  }

  private thisChunk() {
    return { ...this.filter(), 'progress.nextOffset': this.progress.nextOffset };
  }
}
