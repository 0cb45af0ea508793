// `npm test`: installs what is missing, brings up the local services unless KAFKA_BROKERS and
// MONGO_URL point elsewhere, type-checks, lints, runs every Jest project, stops what it started,
// and ends with one line `N passed, N failed` (CI reads it).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium } from './lib/chromium.mjs';
import { ensureEventBusProducer } from './lib/event-bus-producer.mjs';
import { CACHE, ensureDependencies, note, onParentExit, ROOT, run } from './lib/project.mjs';
import {
  externalServicesConfigured,
  localServiceEnv,
  startServices,
  stopServices,
} from './lib/services.mjs';

const jestArgs = process.argv.slice(2);
let started = [];
const stopStarted = () => stopServices(started).then(() => (started = []));
const abort = () => void stopStarted().finally(() => process.exit(130));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, abort);
onParentExit(abort);

const tool = (script, ...args) => [process.execPath, [join(ROOT, 'node_modules', script), ...args]];
const checks = [];
async function check(name, [command, args]) {
  try {
    await run(command, args);
    checks.push({ name, ok: true });
  } catch {
    checks.push({ name, ok: false });
  }
}

let passed = 0;
let failed = 0;
let exitCode = 0;
try {
  await ensureDependencies();
  // The integration tests send event-bus events through Open edX's own Python producer.
  await ensureEventBusProducer();
  // The dashboard's tests drive a real browser.
  await ensureChromium();
  const env = { ...process.env };
  if (!externalServicesConfigured()) {
    started = await startServices();
    // LOCAL_SERVICES tells the tests they may restart these services (fault tests).
    Object.assign(env, localServiceEnv(), { LOCAL_SERVICES: '1' });
  }

  await check('typecheck', tool('typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'));
  // The dashboard's browser code, with the DOM's types.
  await check(
    'typecheck dashboard',
    tool('typescript/bin/tsc', '-p', 'web/dashboard/tsconfig.json'),
  );
  await check('lint', tool('eslint/bin/eslint.js', '.'));
  await check('format', tool('prettier/bin/prettier.cjs', '--check', '.', '--log-level', 'warn'));

  const results = join(CACHE, 'jest-results.json');
  rmSync(results, { force: true });
  try {
    const [node, args] = tool(
      'jest/bin/jest.js',
      '--ci',
      // One test file at a time: some integration tests restart the shared broker and store.
      '--runInBand',
      '--json',
      `--outputFile=${results}`,
      ...jestArgs,
    );
    await run(node, args, { env });
  } catch {
    exitCode = 1;
  }
  if (existsSync(results)) {
    const summary = JSON.parse(readFileSync(results, 'utf8'));
    passed = summary.numPassedTests;
    // A suite that fails to load has no failed test of its own; count it so it cannot hide.
    failed = summary.numFailedTests + summary.numRuntimeErrorTestSuites;
  } else {
    failed += 1;
  }
} catch (error) {
  note(error.message);
  failed += 1;
  exitCode = 1;
} finally {
  await stopStarted();
}

for (const { name, ok } of checks) {
  if (ok) passed += 1;
  else {
    failed += 1;
    exitCode = 1;
    note(`${name} failed`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : exitCode);
