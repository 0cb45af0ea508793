import type { AppConfig } from '@assigner/config';
import type { InboundHeaders, InboundMessage } from '@assigner/contracts';
import { fetchStableCommittedOffsets, type EventBusDecoder } from '@assigner/messaging';
import type { Kafka } from 'kafkajs';
import { addBatch } from './replay-totals';
import { applyChunk, replayGroupId, type ReplayRun } from './replay-run';

/**
 * A topic from the replay's committed offsets (the beginning, for a new run) to the end offsets
 * it had when the replay started, partition by partition in order. Progress is the replay's own
 * consumer group's offsets: committed in each batch's transaction when publishing, else after
 * each batch.
 */
export async function replayTopicRange(
  run: ReplayRun,
  kafka: Kafka,
  config: AppConfig,
  topic: string,
  { decoder }: { decoder: EventBusDecoder },
): Promise<boolean> {
  const groupId = replayGroupId(config, run.runId);
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
  } finally {
    await admin.disconnect();
  }
  const committed = await fetchStableCommittedOffsets({
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.KAFKA_CLIENT_ID}-replay-progress`,
    groupId,
    topic,
    partitions: [...ends.keys()],
  });
  const starts = new Map([...ends.keys()].map((p) => [p, Math.max(0, committed.get(p) ?? 0)]));
  const remaining = new Set([...ends].filter(([p, end]) => starts.get(p)! < end).map(([p]) => p));
  const total = [...ends].reduce((sum, [p, end]) => sum + Math.max(0, end - starts.get(p)!), 0);
  if (remaining.size === 0) return true;

  run.reporter.begin(total);
  let done = 0;

  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
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
          const floor = run.output
            ? await run.output.transactions.claim(topic, batch.partition)
            : starts.get(batch.partition)!;
          const inRange = batch.messages.filter(
            (message) => Number(message.offset) >= floor && Number(message.offset) < end,
          );
          if (inRange.length > 0) {
            const next = Number(inRange[inRange.length - 1]!.offset) + 1;
            const read: InboundMessage[] = inRange.map((message) => ({
              value: message.value,
              key: message.key,
              headers: message.headers as InboundHeaders | undefined,
              position: {
                source: `replay:${run.runId}:${topic}/${batch.partition}`,
                offset: Number(message.offset),
              },
            }));
            // Waits out a registry outage; an interrupt while waiting stops before this batch.
            const decoded = await decoder.decode(read, () => !run.interrupt.aborted);
            if (!decoded.ok) return settle(false);
            const { messages } = decoded;
            // Invalid messages of a topic were dead-lettered by the worker that consumed it.
            const { result } = await applyChunk(
              run,
              { topic, partition: batch.partition, nextOffset: next },
              messages,
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
            run.save({ partitions: Object.fromEntries(starts) });
            run.reporter.advance(done, done);
          }
          // The batch's last offset counts too: transaction markers take offsets no message has.
          if (starts.get(batch.partition)! >= end || Number(batch.lastOffset()) + 1 >= end)
            remaining.delete(batch.partition);
          await payload.heartbeat();
          if (remaining.size === 0) settle(true);
          else if (run.interrupt.aborted) settle(false);
        } catch (error) {
          fail(error);
        }
      },
    });
    return await finished;
  } finally {
    run.reporter.end();
    await consumer.disconnect();
  }
}
