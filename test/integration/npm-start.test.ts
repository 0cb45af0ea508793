import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { uniqueName } from '../support/real-services';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function status(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url)).status;
  } catch {
    return undefined;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('npm start', () => {
  let start: ChildProcess | undefined;
  afterEach(() => {
    if (start?.exitCode === null) start.kill('SIGKILL');
  });

  it('reaches ready (admin API healthy, worker in its group) and stops everything on SIGTERM', async () => {
    const [adminPort, workerPort] = [await freePort(), await freePort()];
    const output: string[] = [];
    // KAFKA_BROKERS and MONGO_URL are set (by npm test), so it starts no services of its own.
    start = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
      cwd: ROOT,
      env: {
        ...process.env,
        ADMIN_API_PORT: String(adminPort),
        WORKER_HTTP_PORT: String(workerPort),
        WORKER_GROUP_ID: uniqueName('start-test'),
        INPUT_TOPICS: uniqueName('start-input'),
        MONGO_DB: uniqueName('start').replaceAll('-', '_'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    start.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));

    await waitFor(
      async () => (await status(`http://127.0.0.1:${adminPort}/health`)) === 200,
      90_000,
    );
    await waitFor(
      async () => (await status(`http://127.0.0.1:${workerPort}/health`)) === 200,
      90_000,
    );
    expect(output.join('')).toContain('joined consumer group');

    start.kill('SIGTERM');
    const [code] = (await once(start, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(await status(`http://127.0.0.1:${adminPort}/health`)).toBeUndefined();
    expect(await status(`http://127.0.0.1:${workerPort}/health`)).toBeUndefined();
  });
});
