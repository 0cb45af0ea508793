import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { ROOT } from './cli';
import { waitFor } from './real-services';
import { freePort } from './worker-harness';

export const TOKENS = {
  editor: 'editor-secret-5b1c0f2e9d',
  otherEditor: 'other-editor-secret-77aa01',
  reader: 'reader-secret-3f9e8d7c6b',
} as const;

export const TOKEN_CONFIG = `alice:editor:${TOKENS.editor},bob:editor:${TOKENS.otherEditor},carol:reader:${TOKENS.reader}`;

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, instead of JSON.stringify(body). */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The built admin API (`dist/apps/admin-api/src/main.js`) as a process, with its log kept. */
export class AdminApiProcess {
  private process: ChildProcess | undefined;
  private port = 0;
  log = '';

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.process = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'apps', 'admin-api', 'src', 'main.js')],
      {
        env: {
          ...process.env,
          ADMIN_API_TOKENS: TOKEN_CONFIG,
          ADMIN_API_PORT: String(this.port),
          LOG_LEVEL: 'info',
          ...this.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const child = this.process;
    child.stdout!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    await waitFor(
      'admin API health',
      async () => {
        if (child.exitCode !== null) throw new Error(`admin API exited:\n${this.log}`);
        return (await this.request('GET', '/health').catch(() => undefined))?.status === 200;
      },
      60_000,
    );
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(this.url(path), { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** Like request, for a JSON object answer whose fields the caller reads. */
  async json<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; headers: Headers; body: T }> {
    const response = await this.request(method, path, options);
    return response as { status: number; headers: Headers; body: T };
  }
}
