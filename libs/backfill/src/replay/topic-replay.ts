import type { AppConfig } from '@assigner/config';
import type { InboundHeaders, InboundMessage } from '@assigner/contracts';
import { fetchStableCommittedOffsets, type EventBusDecoder } from '@assigner/messaging';
import type { Kafka } from 'kafkajs';
import type { ReplayProgress } from './replay-checkpoint';
import { addBatch } from './replay-totals';
import { applyChunk, catchUpSource, replayGroupId, type ReplayRun } from './replay-run';

/**
 * A topic from the replay's checkpoint (the beginning, for a new run) to the end offsets it had
 * when the replay started, partition by partition in order. Progress is the replay's own consumer
 * group's offsets: committed in each batch's transaction when publishing, else after each batch;
 * and, per partition, the next offset to read, in the checkpoint.
 */
export async function replayTopicRange(
  run: ReplayRun,
  kafka: Kafka,
  config: AppConfig,
  topic: string,
  {
    decoder,
    checkpointed,
  }: {
    decoder: EventBusDecoder;
    /** What the earlier processes of the run that this one resumes checkpointed, if any. */
    checkpointed: ReplayProgress | undefined;
  },
): Promise<boolean> {
  const groupId = replayGroupId(config, run.runId);
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  let lows: Map<number, number>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
    lows = new Map(offsets.map(({ partition, low }) => [partition, Number(low)]));
  } finally {
    await admin.disconnect();
  }
  // Stable: a batch this run committed just before it stopped must not be read as unpublished.
  const committed = await fetchStableCommittedOffsets({
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.KAFKA_CLIENT_ID}-replay-progress`,
    groupId,
    topic,
    partitions: [...ends.keys()],
  });
  const published = new Map([...ends.keys()].map((p) => [p, Math.max(0, committed.get(p) ?? 0)]));
  // A partition the checkpoint has no offset of: nothing of it done by this run, or by the one it
  // resumes (which may have stopped in its first chunk, since taken over).
  const starts = new Map(
    [...ends.keys()].map((p) => [p, Math.max(checkpointed?.partitions?.[p] ?? 0, lows.get(p)!)]),
  );
  // Published past the checkpoint: by another writer that took over this run's unfinished chunk
  // (or by this run just before it stopped). From the checkpoint on, the partition is applied
  // under a source of its own, as a file replay does (see `replayFiles`): what the chunk stored
  // publishes nothing again, and what it had not stored is applied now.
  const behindPublished = new Set(
    [...ends.keys()].filter((p) => starts.get(p)! < published.get(p)!),
  );
  const sources = new Map(
    [...ends.keys()].map((p) => {
      const earlier = checkpointed?.sources?.[p];
      const to = published.get(p)!;
      if (behindPublished.has(p))
        return [p, { source: catchUpSource(run.runId, earlier ?? {}, to, `:${topic}/${p}`), to }];
      return [p, earlier ?? { source: `replay:${run.runId}:${topic}/${p}`, to }];
    }),
  );
  const save = () =>
    run.save({ partitions: Object.fromEntries(starts), sources: Object.fromEntries(sources) });
  /** Partitions whose checkpoint lies below the group's committed offset, with seeks made. */
  const behind = new Map([...behindPublished].map((p) => [p, 0]));
  // Recorded before anything is stored under them: a pass stopped midway goes on under them.
  if (behind.size > 0) save();
  const remaining = new Set([...ends].filter(([p, end]) => starts.get(p)! < end).map(([p]) => p));
  const total = [...ends].reduce((sum, [p, end]) => sum + Math.max(0, end - starts.get(p)!), 0);
  if (remaining.size === 0) return true;

  run.reporter.begin(total);
  let done = 0;

  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const seek = (partition: number) =>
      consumer.seek({ topic, partition, offset: String(starts.get(partition)!) });
    let settle: (finished: boolean) => void = () => undefined;
    let fail: (error: unknown) => void = () => undefined;
    const finished = new Promise<boolean>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        try {
          if (!remaining.has(batch.partition)) return;
          const end = ends.get(batch.partition)!;
          const start = starts.get(batch.partition)!;
          // Read from the group's committed offset, before the seek to the checkpoint took
          // (a few tries: the log may no longer hold the checkpoint's offsets).
          if (behind.has(batch.partition)) {
            const seeks = behind.get(batch.partition)!;
            const fromCommitted =
              Number(batch.firstOffset() ?? start) >= published.get(batch.partition)!;
            if (fromCommitted && seeks < 3) {
              behind.set(batch.partition, seeks + 1);
              return seek(batch.partition);
            }
            behind.delete(batch.partition);
          }
          // Claiming fences an earlier process of this run; everything below is published.
          const floor = run.output
            ? await run.output.transactions.claim(topic, batch.partition)
            : published.get(batch.partition)!;
          const inRange = batch.messages.filter(
            (message) => Number(message.offset) >= start && Number(message.offset) < end,
          );
          if (inRange.length > 0) {
            const next = Number(inRange[inRange.length - 1]!.offset) + 1;
            const { source } = sources.get(batch.partition)!;
            const read: InboundMessage[] = inRange.map((message) => ({
              value: message.value,
              key: message.key,
              headers: message.headers as InboundHeaders | undefined,
              position: { source, offset: Number(message.offset) },
            }));
            // Waits out a registry outage; an interrupt while waiting stops before this batch.
            const decoded = await decoder.decode(read, () => !run.interrupt.aborted);
            if (!decoded.ok) return settle(false);
            // Invalid messages of a topic were dead-lettered by the worker that consumed it. A
            // chunk applied again below what is published commits no progress backwards.
            const { result } = await applyChunk(
              run,
              { topic, partition: batch.partition, nextOffset: Math.max(next, floor) },
              decoded.messages,
              () => [],
            );
            if (!run.output && !run.dryRun)
              await consumer.commitOffsets([
                { topic, partition: batch.partition, offset: String(next) },
              ]);
            addBatch(run.totals, inRange.length, result, {
              analytics: run.output ? result.analytics.length : 0,
              deadLetters: 0,
            });
            starts.set(batch.partition, next);
            done += inRange.length;
            save();
          }
          run.reporter.advance(done, done);
          // The batch's last offset counts too: transaction markers take offsets no message has.
          if (starts.get(batch.partition)! >= end || Number(batch.lastOffset()) + 1 >= end)
            remaining.delete(batch.partition);
          // Fetching goes on from the resolved offset: without it, this batch would come again.
          payload.resolveOffset(batch.lastOffset());
          await payload.heartbeat();
          if (remaining.size === 0) settle(true);
          else if (run.interrupt.aborted) settle(false);
        } catch (error) {
          fail(error);
        }
      },
    });
    // The group's committed offsets are where kafkajs begins; a partition whose checkpoint lies
    // below is read from there.
    for (const partition of behind.keys()) seek(partition);
    return await finished;
  } finally {
    run.reporter.end();
    await consumer.disconnect();
  }
}
