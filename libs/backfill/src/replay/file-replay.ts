import type { InboundMessage } from '@assigner/contracts';
import { readEventFiles } from '../history/event-files';
import type { ReplayProgress } from './replay-checkpoint';
import { applyChunk, catchUpSource, type ReplayRun } from './replay-run';
import { addBatch } from './replay-totals';

/**
 * Files in order, in chunks. Progress is the number of lines done: in the checkpoint file and,
 * when publishing, as the committed offset of partition 0 of the analytics topic in the replay's
 * own consumer group, written in the same transaction as the chunk's messages.
 */
export async function replayFiles(
  run: ReplayRun,
  files: readonly string[],
  /** What the earlier processes of the run that this one resumes checkpointed, if any. */
  checkpointed: ReplayProgress | undefined,
): Promise<boolean> {
  // Claiming fences an earlier process of this run and reads, stably, what it published. A new
  // run has no earlier process: its claim goes on while the first chunk is read.
  const claimed = run.output
    ? run.output.transactions.claim(run.progressTopic, 0)
    : Promise.resolve(0);
  claimed.catch(() => undefined);
  const skip = checkpointed?.lines ?? 0;
  const published = checkpointed === undefined ? 0 : await claimed;
  // Published past the checkpoint: by another writer that took over this run's unfinished chunk
  // (or by this run just before it stopped). Those lines are applied again under a source of
  // their own: what the chunk stored is then history already applied, which changes and
  // publishes nothing, and what it had not stored yet is applied now. Under the run's source,
  // the stored part would be re-emitted and published twice. Otherwise lines go on under the
  // source the checkpoint names, whose stored but unpublished changes are re-emitted.
  const catchingUp = published > skip;
  const positionSource = catchingUp
    ? catchUpSource(
        run.runId,
        { source: checkpointed?.source, to: checkpointed?.catchUpTo },
        published,
      )
    : (checkpointed?.source ?? `replay:${run.runId}`);
  // Recorded before anything is stored under it: a pass stopped midway goes on under it.
  if (catchingUp) run.save({ lines: skip, source: positionSource, catchUpTo: published });
  const source = readEventFiles(files);
  run.reporter.begin(source.totalBytes);
  let chunk: InboundMessage[] = [];
  let next = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    await claimed;
    const { result, deadLetters } = await applyChunk(
      run,
      { topic: run.progressTopic, partition: 0, nextOffset: next },
      chunk,
      (deadLetters) =>
        (run.deadLetters ? deadLetters : [])
          // Those of lines below the published progress went out with it.
          .filter(({ message }) => message.position.offset >= published)
          .map((deadLetter) => {
            const { file, line } = source.locate(deadLetter.message.position.offset);
            return {
              ...deadLetter,
              origin: { 'dlq-source-file': file, 'dlq-source-line': String(line) },
            };
          }),
    );
    addBatch(
      run.totals,
      chunk.length,
      result,
      run.output
        ? { analytics: result.analytics.length, deadLetters: deadLetters.length }
        : { analytics: 0, deadLetters: 0 },
    );
    run.save({ lines: next, source: positionSource });
    chunk = [];
    run.reporter.advance(source.bytesRead(), run.totals.lines);
  };
  try {
    for await (const { index, text } of source.lines) {
      next = index + 1;
      if (index < skip) continue;
      // Blank lines are skipped, not counted, as by simulate.
      if (text.trim() !== '')
        chunk.push({ value: text, position: { source: positionSource, offset: index } });
      // A chunk commits progress past what is published, or its commit would not tell takers it did.
      if (chunk.length >= run.chunkSize && next > published) {
        await flush();
        if (run.interrupt.aborted) break;
      }
    }
    if (!run.interrupt.aborted) await flush();
  } finally {
    run.reporter.end();
  }
  return !run.interrupt.aborted;
}
