import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A fault at one step of a writer's work, as the store sees it: the first command of this name
 * on this collection either never reaches the store (`before`) or runs there and its answer never
 * comes back (`after`). Either way that connection then stays silent, as if the writer had died
 * at that point; the test kills the writer once the fault has struck. Or (`held`) the command and
 * what follows it on that connection wait until `release()`, as if the writer had paused just
 * before it: the test pauses the writer once the fault has struck, and lets it go on later.
 */
export interface StoreFault {
  command: string;
  collection: string;
  when: 'before' | 'after' | 'held';
}

/** MongoDB wire protocol: every message starts with its length, request id, response-to id, op code. */
const HEADER_BYTES = 16;
const OP_MSG = 2013;

/** The first element of an OP_MSG's body: the command's name and the collection it names. */
function commandOf(message: Buffer): { command: string; collection: string } | undefined {
  if (message.readInt32LE(12) !== OP_MSG) return undefined;
  // flag bits (4), section kind 0 (1), then the body document: its size (4), first element.
  let at = HEADER_BYTES + 4;
  if (message[at] !== 0) return undefined;
  at += 1 + 4;
  const type = message[at];
  const keyEnd = message.indexOf(0, at + 1);
  const command = message.toString('utf8', at + 1, keyEnd);
  if (type !== 0x02) return { command, collection: '' };
  const length = message.readInt32LE(keyEnd + 1);
  const collection = message.toString('utf8', keyEnd + 5, keyEnd + 5 + length - 1);
  return { command, collection };
}

/** Splits a byte stream into whole wire messages. */
class MessageReader {
  private pending = Buffer.alloc(0);

  push(data: Buffer): Buffer[] {
    this.pending = Buffer.concat([this.pending, data]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0);
      if (this.pending.length < length) break;
      messages.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return messages;
  }
}

/**
 * A loopback TCP proxy in front of the real store that can cut one writer off at one step of its
 * work (see `StoreFault`): a deterministic "died here" on real services, with nothing in the
 * writer's code for it. Everything else passes through unchanged.
 */
export class StoreFaultProxy {
  private fault?: { spec: StoreFault; struck: () => void };
  private held: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((client) => this.connection(client));

  private constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** Proxies to the store at `upstream` (a `mongodb://host:port/` URL). */
  static async start(upstream: string): Promise<StoreFaultProxy> {
    const { hostname, port } = new URL(upstream);
    const proxy = new StoreFaultProxy(hostname, Number(port));
    proxy.server.listen(0, '127.0.0.1');
    await once(proxy.server, 'listening');
    return proxy;
  }

  get url(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `mongodb://127.0.0.1:${address.port}/`;
  }

  /** Arms the fault; resolves once it has struck. One fault at a time, each strikes once. */
  arm(spec: StoreFault): Promise<void> {
    return new Promise((resolve) => {
      this.fault = { spec, struck: resolve };
    });
  }

  /** Lets what a `held` fault holds go on to the store. */
  release(): void {
    for (const release of this.held.splice(0)) release();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  private connection(client: Socket): void {
    const store = connect(this.port, this.host);
    for (const socket of [client, store]) {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        store.destroy();
      });
      socket.on('error', () => undefined);
    }
    let cutOff = false;
    let held: { request: number; struck: () => void } | undefined;
    let holding: Buffer[] | undefined;
    const requests = new MessageReader();
    const answers = new MessageReader();
    client.on('data', (data: Buffer) => {
      for (const message of requests.push(data)) {
        if (cutOff) return;
        if (holding) {
          holding.push(message);
          continue;
        }
        const fault = this.fault;
        const target = commandOf(message);
        if (
          fault &&
          target?.command === fault.spec.command &&
          target.collection === fault.spec.collection
        ) {
          this.fault = undefined;
          if (fault.spec.when === 'before') {
            cutOff = true;
            fault.struck();
            return;
          }
          if (fault.spec.when === 'held') {
            const messages = [message];
            holding = messages;
            this.held.push(() => {
              holding = undefined;
              for (const queued of messages) store.write(queued);
            });
            fault.struck();
            continue;
          }
          held = { request: message.readInt32LE(4), struck: fault.struck };
          store.write(message);
          continue;
        }
        store.write(message);
      }
    });
    store.on('data', (data: Buffer) => {
      for (const message of answers.push(data)) {
        if (cutOff) return;
        if (held && message.readInt32LE(8) === held.request) {
          cutOff = true;
          held.struck();
          return;
        }
        client.write(message);
      }
    });
  }
}
