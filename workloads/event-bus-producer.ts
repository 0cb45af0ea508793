import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// workloads/ when run from the sources (the tests), dist/workloads/ when compiled (the benches).
const ROOT = existsSync(join(__dirname, '..', 'package.json'))
  ? join(__dirname, '..')
  : join(__dirname, '..', '..');
/** The venv `npm test` makes (scripts/lib/event-bus-producer.mjs) and the script it runs. */
const EVENT_BUS_PRODUCER_PYTHON = join(
  ROOT,
  '.cache',
  'event-bus-producer',
  'venv',
  'bin',
  'python',
);
const PRODUCE_SCRIPT = join(ROOT, 'services', 'event-bus-producer', 'produce.py');

/**
 * One enrollment event as the LMS sends it: `signal` names the OpenEdxPublicSignal
 * (COURSE_ENROLLMENT_CREATED, COURSE_ENROLLMENT_CHANGED, COURSE_UNENROLLMENT_COMPLETED), the rest
 * fills its CourseEnrollmentData.
 */
export interface EnrollmentSignal {
  signal: 'created' | 'changed' | 'unenrolled';
  user_id: number;
  username: string;
  email: string;
  name: string;
  /** The account's is_active (UserData.is_active); true when left out. */
  user_is_active?: boolean;
  course_key: string;
  course_name: string;
  mode: string;
  /** The enrollment's is_active. */
  is_active: boolean;
  /** ISO-8601 with a UTC offset, e.g. 2024-03-01T12:00:00+00:00; sent as given. */
  creation_date: string;
}

export interface EventBusProducerOptions {
  /** Kafka bootstrap servers, comma-separated. */
  brokers: string;
  /** Confluent-compatible schema registry, e.g. http://127.0.0.1:18081/apis/ccompat/v7. */
  registryUrl: string;
  /** EVENT_BUS_TOPIC_PREFIX: events go to `<topicPrefix>-<baseTopic>`, which must exist. */
  topicPrefix: string;
  /** The base topic of all three signals. */
  baseTopic: string;
  /** Kills the producer after this long (default 120 s). */
  timeoutMs?: number;
}

export interface ProducerSummary {
  delivered: number;
  failed: number;
}

const tail = (text: string, lines = 40): string =>
  text.trimEnd().split('\n').slice(-lines).join('\n');

function isSummary(value: unknown): value is ProducerSummary {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.delivered === 'number' && typeof record.failed === 'number';
}

/**
 * Sends the events through Open edX's own producer (openedx-events' signals, edx-event-bus-kafka,
 * Avro through the schema registry) and resolves once every one was acknowledged by the broker;
 * rejects, with the end of the producer's log, when any was not.
 */
export function produceEnrollmentEvents(
  options: EventBusProducerOptions,
  events: readonly EnrollmentSignal[],
): Promise<ProducerSummary> {
  if (!existsSync(EVENT_BUS_PRODUCER_PYTHON))
    return Promise.reject(
      new Error(`${EVENT_BUS_PRODUCER_PYTHON} is missing; run the suite with \`npm test\``),
    );
  const child = spawn(
    EVENT_BUS_PRODUCER_PYTHON,
    [
      PRODUCE_SCRIPT,
      '--bootstrap-servers',
      options.brokers,
      '--schema-registry-url',
      options.registryUrl,
      '--topic-prefix',
      options.topicPrefix,
      '--topic',
      options.baseTopic,
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } },
  );
  return new Promise<ProducerSummary>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timeoutMs = options.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A producer that dies early closes stdin; its exit status says why, not EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lastLine = stdout.trimEnd().split('\n').pop() ?? '';
      let summary: unknown;
      try {
        summary = JSON.parse(lastLine);
      } catch {
        summary = undefined;
      }
      if (code === 0 && isSummary(summary) && summary.delivered === events.length) {
        resolve(summary);
        return;
      }
      reject(
        new Error(
          `event-bus producer failed (${signal ?? `exit ${code}`}) for ${events.length} events; ` +
            `summary: ${lastLine || '(none)'}\n${tail(stderr)}`,
        ),
      );
    });
    child.stdin.end(events.map((event) => `${JSON.stringify(event)}\n`).join(''));
  });
}
