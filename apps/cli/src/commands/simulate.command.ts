import {
  parseLmsUserExport,
  validateExperimentsFile,
  type InboundMessage,
} from '@assigner/contracts';
import { LearnerAttributesTable, type Experiment, type LearnerAttributes } from '@assigner/domain';
import { InMemoryAssigner, type RunSummary } from '@assigner/pipeline';
import { SingleBar } from 'cli-progress';
import { readFileSync } from 'node:fs';
import { JsonLinesWriter } from '../io/json-lines-writer';
import { readLines } from '@assigner/backfill';
import { UsageError } from '../usage-error';

export interface SimulateOptions {
  events: string;
  experiments: string;
  assignmentsOut: string;
  analyticsOut: string;
  dlqOut?: string;
  learnerAttributes?: string;
}

/** Reads and validates an experiments file; a UsageError lists every problem. */
export function loadExperimentsFile(path: string): {
  experiments: Experiment[];
  warnings: string[];
} {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError([`cannot read experiments file ${path}: ${(error as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError([`experiments file ${path} is not JSON: ${(error as Error).message}`]);
  }
  const result = validateExperimentsFile(json);
  if (!result.ok)
    throw new UsageError([
      `experiments file ${path} is invalid:`,
      ...result.problems.map((p) => `  ${p}`),
    ]);
  return { experiments: result.value, warnings: result.warnings };
}

/** Reads and validates an LMS user export (staff and superusers); a UsageError lists every problem. */
export function loadLmsUserExport(path: string): LearnerAttributes[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError([`cannot read the LMS export ${path}: ${(error as Error).message}`]);
  }
  const result = parseLmsUserExport(text);
  if (!result.ok)
    throw new UsageError([
      `the LMS export ${path} is invalid:`,
      ...result.problems.map((p) => `  ${p}`),
    ]);
  return result.value;
}

function describeSummary(summary: RunSummary): string {
  const lines = [
    `lines ${summary.lines}: ${summary.enrollments} enrollments, ${summary.pageViews} page views, ${summary.ignored} ignored, ${summary.invalid} invalid`,
    `assignments ${summary.assignments}, analytics messages ${summary.messages}`,
  ];
  for (const [experiment, buckets] of Object.entries(summary.buckets)) {
    const perBucket = Object.entries(buckets)
      .map(([bucket, count]) => `bucket ${bucket}: ${count}`)
      .join(', ');
    lines.push(`  ${experiment}: ${perBucket || 'nobody assigned'}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `assigner simulate`: runs a log through the whole pipeline in memory, in order, and writes the
 * final assignments, the analytics messages in emission order, and the invalid lines.
 */
export async function simulate(options: SimulateOptions): Promise<RunSummary> {
  const { experiments, warnings } = loadExperimentsFile(options.experiments);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  let source;
  try {
    source = readLines(options.events);
  } catch (error) {
    throw new UsageError([`cannot read events ${options.events}: ${(error as Error).message}`]);
  }

  const attributes = options.learnerAttributes
    ? new LearnerAttributesTable(loadLmsUserExport(options.learnerAttributes))
    : undefined;
  const assigner = new InMemoryAssigner(experiments, attributes);
  const analytics = new JsonLinesWriter(options.analyticsOut);
  const dlq = options.dlqOut ? new JsonLinesWriter(options.dlqOut) : undefined;
  const progress =
    process.stderr.isTTY && source.totalBytes
      ? new SingleBar({
          format: 'simulate [{bar}] {percentage}% | {value}/{total} bytes | ETA {eta}s',
          stream: process.stderr,
        })
      : undefined;
  progress?.start(source.totalBytes ?? 0, 0);

  // Any chunk size gives the same results; this one keeps memory flat and batches cheap.
  const CHUNK = 2000;
  let chunk: InboundMessage[] = [];
  const flush = async (): Promise<void> => {
    const { analytics: messages, deadLetters } = await assigner.process(chunk);
    for (const message of messages) await analytics.write(message);
    for (const { message, reason } of deadLetters) {
      await dlq?.write({ line: message.position.offset, reason, raw: message.value });
    }
    chunk = [];
    progress?.update(source.bytesRead());
  };
  let lineNumber = 0;
  for await (const line of source.lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    chunk.push({ value: line, position: { source: options.events, offset: lineNumber } });
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  progress?.update(source.bytesRead());
  progress?.stop();

  const assignmentsOut = new JsonLinesWriter(options.assignmentsOut);
  for (const assignment of assigner.assignments()) {
    await assignmentsOut.write({
      experiment: assignment.experiment,
      course_id: assignment.courseId,
      user_id: assignment.userId,
      username: assignment.username,
      bucket: assignment.bucket,
      reason: assignment.reason,
    });
  }
  await Promise.all([analytics.close(), dlq?.close(), assignmentsOut.close()]);
  const summary = assigner.summary();
  process.stderr.write(describeSummary(summary));
  return summary;
}
