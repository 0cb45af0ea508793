import { backOff } from 'exponential-backoff';
import {
  BrokerConnection,
  ConnectionError,
  parseBroker,
  type BrokerAddress,
} from './protocol/broker-connection';
import { COORDINATOR_ERRORS, errorName, UNSTABLE_OFFSET_COMMIT } from './protocol/error-codes';
import { findCoordinatorV1 } from './protocol/requests/find-coordinator/v1';
import { offsetFetchV7 } from './protocol/requests/offset-fetch/v7';

// kafkajs speaks OffsetFetch only up to v4, which cannot ask for stable offsets: right after a
// transactional offset commit the coordinator can still answer with the previous offset. This
// module sends OffsetFetch v7 with require_stable (KIP-447) over a plain socket instead, so the
// broker answers UNSTABLE_OFFSET_COMMIT until the pending commit has materialised. The requests
// are in protocol/requests, one module per request and version, as kafkajs lays out its own.

export interface StableOffsetsRequest {
  brokers: readonly string[];
  clientId: string;
  groupId: string;
  topic: string;
  partitions: readonly number[];
  /** Overall budget for the call, retries included. Default 30000. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A moment of the cluster (a moved or loading coordinator, a pending commit): ask again. */
class Retriable extends Error {}
/** The group's last transactional offset commit is still pending: ask the same coordinator again. */
class Unstable extends Retriable {}

/** partition → committed offset, -1 when the group has none for it */
export async function fetchStableCommittedOffsets(
  request: StableOffsetsRequest,
): Promise<Map<number, number>> {
  const deadline = Date.now() + (request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const beforeDeadline = () => Date.now() < deadline;
  try {
    return await backOff(() => fetchFromCoordinator(request, deadline), {
      numOfAttempts: Infinity,
      startingDelay: 100,
      maxDelay: 1_000,
      retry: (error) => error instanceof Retriable && beforeDeadline(),
    });
  } catch (error) {
    if (error instanceof Retriable) throw new Error(`${error.message}; gave up at the deadline`);
    throw error;
  }
}

/** Finds the group's coordinator and reads from it, again while a commit is pending. */
async function fetchFromCoordinator(
  request: StableOffsetsRequest,
  deadline: number,
): Promise<Map<number, number>> {
  const where = `group ${request.groupId}, topic ${request.topic}`;
  const found = await findCoordinator(request, deadline);
  if (typeof found === 'number')
    throw new Retriable(`No usable coordinator for ${where}: ${errorName(found)}`);
  let connection: BrokerConnection | undefined;
  try {
    connection = await BrokerConnection.open(found, deadline);
    const open = connection;
    return await backOff(() => fetchOffsetsOnce(open, request), {
      numOfAttempts: Infinity,
      startingDelay: 20,
      maxDelay: 200,
      retry: (error) => error instanceof Unstable && Date.now() < deadline,
    });
  } catch (error) {
    // The coordinator may have just gone away; the group will then have a new one.
    if (error instanceof ConnectionError)
      throw new Retriable(`No usable coordinator for ${where}: ${error.message}`);
    throw error;
  } finally {
    connection?.close();
  }
}

/** The coordinator's address, or the retriable error code that stands in for one. */
async function findCoordinator(
  request: StableOffsetsRequest,
  deadline: number,
): Promise<BrokerAddress | number> {
  const failures: string[] = [];
  for (const broker of request.brokers) {
    let connection: BrokerConnection | undefined;
    try {
      connection = await BrokerConnection.open(parseBroker(broker), deadline);
      const {
        errorCode: code,
        errorMessage: message,
        host,
        port,
      } = await connection.send(findCoordinatorV1(request.groupId), request.clientId);
      if (code === 0) return { host, port };
      if (COORDINATOR_ERRORS.has(code)) return code;
      throw new Error(
        `FindCoordinator for group ${request.groupId} failed: ${errorName(code)}` +
          (message ? ` (${message})` : ''),
      );
    } catch (error) {
      // Only an unreachable or vanished broker is a reason to ask the next one.
      if (!(error instanceof ConnectionError)) throw error;
      failures.push(error.message);
    } finally {
      connection?.close();
    }
  }
  throw new Error(`No Kafka broker reachable: ${failures.join('; ') || 'no brokers given'}`);
}

/** The offsets, or a `Retriable` error: a moved coordinator, or `Unstable` for a pending commit. */
async function fetchOffsetsOnce(
  connection: BrokerConnection,
  request: StableOffsetsRequest,
): Promise<Map<number, number>> {
  const response = await connection.send(
    offsetFetchV7(request.groupId, request.topic, request.partitions),
    request.clientId,
  );
  const offsets = new Map<number, number>();
  const errors = new Map<number, number[]>(); // error code → partitions
  for (const topic of response.topics) {
    if (topic.name !== request.topic) continue;
    for (const { partition, offset, errorCode } of topic.partitions) {
      if (errorCode === 0) offsets.set(partition, offset);
      else errors.set(errorCode, [...(errors.get(errorCode) ?? []), partition]);
    }
  }
  const topLevelCode = response.errorCode;
  if (topLevelCode !== 0) errors.set(topLevelCode, errors.get(topLevelCode) ?? []);

  // A non-retriable error wins over retriable ones; then a moved coordinator over a pending commit.
  const codes = [...errors.keys()];
  const fatal = codes.find(
    (code) => code !== UNSTABLE_OFFSET_COMMIT && !COORDINATOR_ERRORS.has(code),
  );
  if (fatal !== undefined) {
    const partitions = errors.get(fatal) ?? [];
    throw new Error(
      `OffsetFetch for group ${request.groupId}, topic ${request.topic} failed: ${errorName(fatal)}` +
        (partitions.length > 0 ? ` on partition(s) ${partitions.join(', ')}` : ''),
    );
  }
  const moved = codes.find((code) => COORDINATOR_ERRORS.has(code));
  if (moved !== undefined)
    throw new Retriable(
      `No usable coordinator for group ${request.groupId}, topic ${request.topic}: ${errorName(moved)}`,
    );
  if (codes.length > 0) {
    const pending = errors.get(UNSTABLE_OFFSET_COMMIT) ?? [];
    const partitions = pending.length > 0 ? pending : request.partitions;
    throw new Unstable(
      `Committed offsets for group ${request.groupId}, topic ${request.topic}, partition(s) ` +
        `${partitions.join(', ')} stayed UNSTABLE_OFFSET_COMMIT (a transactional offset commit is still pending)`,
    );
  }

  const missing = request.partitions.filter((partition) => !offsets.has(partition));
  if (missing.length > 0) {
    throw new Error(
      `OffsetFetch for group ${request.groupId}, topic ${request.topic} did not answer for ` +
        `partition(s) ${missing.join(', ')}`,
    );
  }
  return new Map(request.partitions.map((partition) => [partition, offsets.get(partition) ?? -1]));
}
