import { Socket } from 'node:net';
import { Reader, Writer } from './encoding';

/** One request of one API version: its body, and how its response reads. */
export interface KafkaRequest<Response> {
  apiKey: number;
  apiVersion: number;
  /** Flexible versions (KIP-482) have tagged fields in their headers. */
  flexible: boolean;
  body: Buffer;
  decode(response: Reader): Response;
}

export interface BrokerAddress {
  host: string;
  port: number;
}

export function parseBroker(broker: string): BrokerAddress {
  const colon = broker.lastIndexOf(':');
  const port = Number(broker.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`Broker address "${broker}" is not host:port`);
  }
  return { host: broker.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

/** The socket failed, closed or timed out: another broker may still answer. */
export class ConnectionError extends Error {}

/** One socket, one request in flight at a time: enough for this call and easy to reason about. */
export class BrokerConnection {
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

  /** Sends one request and reads its response; one in flight at a time. */
  send<Response>(request: KafkaRequest<Response>, clientId: string): Promise<Response> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    const header = new Writer()
      .int16(request.apiKey)
      .int16(request.apiVersion)
      .int32(correlationId);
    header.string(clientId); // always an int16-length string, even in flexible headers
    if (request.flexible) header.uvarint(0);
    const message = Buffer.concat([header.toBuffer(), request.body]);
    const frame = Buffer.alloc(4);
    frame.writeInt32BE(message.length);
    return new Promise<Reader>((resolve, reject) => {
      this.pending = { correlationId, flexibleHeader: request.flexible, resolve, reject };
      this.socket.write(Buffer.concat([frame, message]));
    }).then((reader) => request.decode(reader));
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
