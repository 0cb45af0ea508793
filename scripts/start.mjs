// `npm start`: installs what is missing, builds, brings up the local services unless
// KAFKA_BROKERS and MONGO_URL point elsewhere, and runs the worker and the admin API in the
// foreground. Ctrl-C or SIGTERM stops the apps first (they finish their work in hand), then
// the services this command started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build, ensureDependencies, note, onParentExit, ROOT } from './lib/project.mjs';
import {
  externalServicesConfigured,
  localServiceEnv,
  startServices,
  stopServices,
} from './lib/services.mjs';

const APPS = {
  worker: 'dist/apps/worker/src/main.js',
  'admin-api': 'dist/apps/admin-api/src/main.js',
};
const children = new Map();
let started = [];
let stopping = false;

async function shutdown(exitCode) {
  if (stopping) return;
  stopping = true;
  note('stopping');
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await stopServices(started);
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void shutdown(0));
onParentExit(() => void shutdown(0));

try {
  await ensureDependencies();
  await build();
  const env = { ...process.env };
  if (externalServicesConfigured())
    note('KAFKA_BROKERS and MONGO_URL are set: using those services');
  else {
    started = await startServices();
    Object.assign(env, localServiceEnv());
  }
  if (stopping) process.exit(0);
  if (!env.ADMIN_API_TOKENS) {
    // The admin API refuses to start without tokens; a local run gets one editor token, kept in
    // a file only this user can read rather than printed where logs and scrollback keep it.
    const secret = randomBytes(24).toString('base64url');
    const file = join(ROOT, '.cache', 'admin-api-token');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    env.ADMIN_API_TOKENS = `local:editor:${secret}`;
    note(`ADMIN_API_TOKENS is not set: this run's editor token is in ${file}`);
    note(
      'e.g. curl -H "Authorization: Bearer $(cat .cache/admin-api-token)" 127.0.0.1:3000/experiments',
    );
  }
  for (const [name, entry] of Object.entries(APPS)) {
    const child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, entry)], {
      env,
      stdio: 'inherit',
    });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      note(`${name} exited (${signal ?? `code ${code}`}); stopping everything`);
      void shutdown(code || 1);
    });
  }
} catch (error) {
  note(error.message);
  await shutdown(1);
}
