import { Socket } from 'node:net';
import { Backoff } from './backoff';

// kafkajs speaks OffsetFetch only up to v4, which cannot ask for stable offsets: right after a
// transactional offset commit the coordinator can still answer with the previous offset. This
// module sends OffsetFetch v7 with require_stable (KIP-447) over a plain socket instead, so the
// broker answers UNSTABLE_OFFSET_COMMIT until the pending commit has materialised.
// Layouts follow Apache Kafka's clients/src/main/resources/common/message/*.json (3.9).

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

const API_OFFSET_FETCH = 9;
const API_FIND_COORDINATOR = 10;
const OFFSET_FETCH_VERSION = 7; // first version with require_stable; flexible (KIP-482)
// v1 rather than v0: the 3.9 spec marks v0 deprecated and Kafka 4.0 (KIP-896) removes it.
const FIND_COORDINATOR_VERSION = 1;
const COORDINATOR_KEY_TYPE_GROUP = 0;

const ERROR_NAMES: Readonly<Record<number, string>> = {
  [-1]: 'UNKNOWN_SERVER_ERROR',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  7: 'REQUEST_TIMED_OUT',
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR',
  24: 'INVALID_GROUP_ID',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  30: 'GROUP_AUTHORIZATION_FAILED',
  35: 'UNSUPPORTED_VERSION',
  42: 'INVALID_REQUEST',
  69: 'GROUP_ID_NOT_FOUND',
  88: 'UNSTABLE_OFFSET_COMMIT',
};
const UNSTABLE_OFFSET_COMMIT = 88;
/** The group moved or its coordinator is still loading: ask for the coordinator again. */
const COORDINATOR_ERRORS = new Set([14, 15, 16]);

function errorName(code: number): string {
  const name = ERROR_NAMES[code];
  return name ? `${code} ${name}` : `${code}`;
}

/** partition → committed offset, -1 when the group has none for it */
export async function fetchStableCommittedOffsets(
  request: StableOffsetsRequest,
): Promise<Map<number, number>> {
  const deadline = Date.now() + (request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const coordinatorBackoff = new Backoff(100, 1_000);
  const unstableBackoff = new Backoff(20, 200);
  const where = `group ${request.groupId}, topic ${request.topic}`;

  for (;;) {
    const found = await findCoordinator(request, deadline);
    let retryReason: string;
    if (typeof found === 'number') {
      retryReason = errorName(found);
    } else {
      let connection: BrokerConnection | undefined;
      try {
        connection = await BrokerConnection.open(found, deadline);
        for (;;) {
          const outcome = await fetchOffsetsOnce(connection, request);
          if (outcome instanceof Map) return outcome;
          if (outcome.code !== UNSTABLE_OFFSET_COMMIT) {
            retryReason = errorName(outcome.code);
            break;
          }
          const partitions =
            outcome.partitions.length > 0 ? outcome.partitions : request.partitions;
          await unstableBackoff.pause(
            deadline,
            () =>
              `Committed offsets for ${where}, partition(s) ${partitions.join(', ')} stayed ` +
              `UNSTABLE_OFFSET_COMMIT (a transactional offset commit is still pending)`,
          );
        }
      } catch (error) {
        // The coordinator may have just gone away; the group will then have a new one.
        if (!(error instanceof ConnectionError)) throw error;
        retryReason = error.message;
      } finally {
        connection?.close();
      }
    }
    await coordinatorBackoff.pause(
      deadline,
      () => `No usable coordinator for ${where}: ${retryReason}`,
    );
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
      const body = new Writer().string(request.groupId).int8(COORDINATOR_KEY_TYPE_GROUP).toBuffer();
      const response = await connection.request(
        API_FIND_COORDINATOR,
        FIND_COORDINATOR_VERSION,
        false,
        request.clientId,
        body,
      );
      response.int32(); // throttle_time_ms
      const code = response.int16();
      const message = response.nullableString();
      response.int32(); // node_id
      const host = response.string();
      const port = response.int32();
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

type FetchOutcome = Map<number, number> | { code: number; partitions: number[] };

async function fetchOffsetsOnce(
  connection: BrokerConnection,
  request: StableOffsetsRequest,
): Promise<FetchOutcome> {
  const body = new Writer()
    .compactString(request.groupId)
    .uvarint(2) // one topic (compact array length is count + 1)
    .compactString(request.topic)
    .uvarint(request.partitions.length + 1);
  for (const partition of request.partitions) body.int32(partition);
  body
    .uvarint(0) // topic tagged fields
    .int8(1) // require_stable
    .uvarint(0); // request tagged fields
  const response = await connection.request(
    API_OFFSET_FETCH,
    OFFSET_FETCH_VERSION,
    true,
    request.clientId,
    body.toBuffer(),
  );

  response.int32(); // throttle_time_ms
  const offsets = new Map<number, number>();
  const errors = new Map<number, number[]>(); // error code → partitions
  const topicCount = response.compactArrayLength();
  for (let t = 0; t < topicCount; t++) {
    const name = response.compactString();
    const partitionCount = response.compactArrayLength();
    for (let p = 0; p < partitionCount; p++) {
      const partition = response.int32();
      const offset = Number(response.int64());
      response.int32(); // committed_leader_epoch
      response.compactNullableString(); // metadata
      const code = response.int16();
      response.skipTaggedFields();
      if (name !== request.topic) continue;
      if (code === 0) offsets.set(partition, offset);
      else errors.set(code, [...(errors.get(code) ?? []), partition]);
    }
    response.skipTaggedFields();
  }
  const topLevelCode = response.int16();
  response.skipTaggedFields();
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
  const retry = codes.find((code) => COORDINATOR_ERRORS.has(code)) ?? codes[0];
  if (retry !== undefined) return { code: retry, partitions: errors.get(retry) ?? [] };

  const missing = request.partitions.filter((partition) => !offsets.has(partition));
  if (missing.length > 0) {
    throw new Error(
      `OffsetFetch for group ${request.groupId}, topic ${request.topic} did not answer for ` +
        `partition(s) ${missing.join(', ')}`,
    );
  }
  return new Map(request.partitions.map((partition) => [partition, offsets.get(partition) ?? -1]));
}

interface BrokerAddress {
  host: string;
  port: number;
}

function parseBroker(broker: string): BrokerAddress {
  const colon = broker.lastIndexOf(':');
  const port = Number(broker.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`Broker address "${broker}" is not host:port`);
  }
  return { host: broker.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

/** The socket failed, closed or timed out: another broker may still answer. */
class ConnectionError extends Error {}

/** One socket, one request in flight at a time: enough for this call and easy to reason about. */
class BrokerConnection {
  private received = Buffer.alloc(0);
  private nextCorrelationId = 1;
  private pending?: {
    correlationId: number;
    flexibleHeader: boolean;
    resolve: (body: Reader) => void;
    reject: (error: Error) => void;
  };
  private failure?: ConnectionError;

  private constructor(
    private readonly socket: Socket,
    private readonly label: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(`${label}: ${error.message}`));
    socket.on('close', () => this.fail(`${label}: connection closed`));
  }

  static open(address: BrokerAddress, deadline: number): Promise<BrokerConnection> {
    const label = `${address.host}:${address.port}`;
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      // An idle timeout bounded by the deadline, so a silent broker cannot hang the call.
      socket.setTimeout(Math.max(1, deadline - Date.now()));
      socket.once('timeout', () => socket.destroy(new Error('no answer before the deadline')));
      socket.once('error', (error) => reject(new ConnectionError(`${label}: ${error.message}`)));
      socket.once('connect', () => resolve(new BrokerConnection(socket, label)));
      socket.connect(address.port, address.host);
    });
  }

  request(
    apiKey: number,
    apiVersion: number,
    flexible: boolean,
    clientId: string,
    body: Buffer,
  ): Promise<Reader> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    const header = new Writer().int16(apiKey).int16(apiVersion).int32(correlationId);
    header.string(clientId); // always an int16-length string, even in flexible headers
    if (flexible) header.uvarint(0);
    const message = Buffer.concat([header.toBuffer(), body]);
    const frame = Buffer.alloc(4);
    frame.writeInt32BE(message.length);
    return new Promise((resolve, reject) => {
      this.pending = { correlationId, flexibleHeader: flexible, resolve, reject };
      this.socket.write(Buffer.concat([frame, message]));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    // Responses may arrive split over several chunks: wait for the whole size-prefixed frame.
    this.received = Buffer.concat([this.received, chunk]);
    while (this.received.length >= 4) {
      const size = this.received.readInt32BE(0);
      if (this.received.length < 4 + size) return;
      const frame = this.received.subarray(4, 4 + size);
      this.received = this.received.subarray(4 + size);
      this.deliver(new Reader(frame));
    }
  }

  private deliver(response: Reader): void {
    const pending = this.pending;
    this.pending = undefined;
    const correlationId = response.int32();
    if (!pending || correlationId !== pending.correlationId) {
      const error = new ConnectionError(
        `${this.label}: unexpected response (correlation id ${correlationId})`,
      );
      pending?.reject(error);
      this.fail(error.message);
      this.socket.destroy();
      return;
    }
    try {
      if (pending.flexibleHeader) response.skipTaggedFields();
      pending.resolve(response);
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(message: string): void {
    this.failure ??= new ConnectionError(message);
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failure);
  }
}

class Writer {
  private readonly parts: Buffer[] = [];

  int8(value: number): this {
    const buffer = Buffer.alloc(1);
    buffer.writeInt8(value);
    return this.push(buffer);
  }

  int16(value: number): this {
    const buffer = Buffer.alloc(2);
    buffer.writeInt16BE(value);
    return this.push(buffer);
  }

  int32(value: number): this {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32BE(value);
    return this.push(buffer);
  }

  /** Unsigned varint, 7 bits per byte, least significant group first. */
  uvarint(value: number): this {
    const bytes: number[] = [];
    let rest = value >>> 0;
    while (rest >= 0x80) {
      bytes.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    bytes.push(rest);
    return this.push(Buffer.from(bytes));
  }

  string(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.int16(bytes.length).push(bytes);
  }

  compactString(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.uvarint(bytes.length + 1).push(bytes);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }

  private push(buffer: Buffer): this {
    this.parts.push(buffer);
    return this;
  }
}

class Reader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  int16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  int64(): bigint {
    return this.buffer.readBigInt64BE(this.take(8));
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buffer.readUInt8(this.take(1));
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error('Malformed Kafka response: varint longer than 5 bytes');
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new Error('Malformed Kafka response: unexpected null string');
    return value;
  }

  nullableString(): string | null {
    const length = this.int16();
    return length < 0 ? null : this.utf8(length);
  }

  compactString(): string {
    const value = this.compactNullableString();
    if (value === null) throw new Error('Malformed Kafka response: unexpected null string');
    return value;
  }

  compactNullableString(): string | null {
    const length = this.uvarint() - 1;
    return length < 0 ? null : this.utf8(length);
  }

  compactArrayLength(): number {
    return Math.max(0, this.uvarint() - 1); // 0 encodes a null array
  }

  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.take(this.uvarint());
    }
  }

  private utf8(length: number): string {
    const start = this.take(length);
    return this.buffer.toString('utf8', start, start + length);
  }

  /** Claims the next `length` bytes and returns where they start. */
  private take(length: number): number {
    if (this.offset + length > this.buffer.length) {
      throw new Error('Malformed Kafka response: shorter than its fields');
    }
    const start = this.offset;
    this.offset += length;
    return start;
  }
}
