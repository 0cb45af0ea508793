// Shared helpers for the project's scripts. Plain Node with no dependencies: these run before
// node_modules exists.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = join(ROOT, '.cache');

/** Progress notes go to stderr so that commands like the CLI keep stdout for their output. */
export function note(message) {
  process.stderr.write(`[assigner] ${message}\n`);
}

export function hashFiles(paths) {
  const hash = createHash('sha256');
  for (const path of paths) hash.update(readFileSync(path));
  return hash.digest('hex');
}

/** Runs a command to completion; rejects with its exit code in the message. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      ...options,
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

/** Runs a step only when its inputs changed since it last succeeded (a stamp file keeps the hash). */
export async function onceFor(stampPath, inputs, step) {
  const wanted = hashFiles(inputs);
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === wanted) return false;
  await step();
  mkdirSync(dirname(stampPath), { recursive: true });
  writeFileSync(stampPath, wanted);
  return true;
}

/** npm ci when node_modules is missing or older than package-lock.json. */
export async function ensureDependencies() {
  const stamp = join(ROOT, 'node_modules', '.assigner-installed');
  await onceFor(stamp, [join(ROOT, 'package-lock.json')], async () => {
    note('installing npm dependencies (npm ci)');
    await run('npm', ['ci', '--no-audit', '--no-fund'], {
      stdio: ['ignore', process.stderr, 'inherit'],
    });
  });
}

/**
 * Compiles apps, libs, benchmarks and the workloads they generate to dist/ with swc (well under a
 * second; type checking is `npm run typecheck`), and bundles the admin API's dashboard
 * (web/dashboard, with Chart.js) into dist/web/dashboard with esbuild, so that the page needs
 * nothing from outside the API that serves it.
 */
export async function build() {
  const quiet = { stdio: ['ignore', process.stderr, 'inherit'] };
  await run(
    process.execPath,
    [
      join(ROOT, 'node_modules', '@swc', 'cli', 'bin', 'swc.js'),
      'apps',
      'libs',
      'bench',
      'workloads',
      '-d',
      'dist',
      '--config-file',
      '.swcrc',
      '--quiet',
    ],
    quiet,
  );
  const dashboard = join(ROOT, 'dist', 'web', 'dashboard');
  // Imported here: this module also runs before dependencies are installed.
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(ROOT, 'web', 'dashboard', 'src', 'main.ts')],
    outfile: join(dashboard, 'dashboard.js'),
    bundle: true,
    format: 'iife',
    minify: true,
    sourcemap: true,
    target: 'es2022',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'dashboard.css'])
    cpSync(join(ROOT, 'web', 'dashboard', file), join(dashboard, file));
}

/**
 * Calls back when the process that started this one goes away. `npm start` and `npm test` run
 * our scripts under npm, which exits on SIGTERM without passing it on; without this, a
 * supervisor's SIGTERM would leave our apps and services running.
 */
export function onParentExit(callback) {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      callback();
    }
  }, 500);
  timer.unref();
}
