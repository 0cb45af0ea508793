// Debian's chromium, which the dashboard's browser tests drive headless with playwright-core:
// installed with apt-get when missing and this runs as root; otherwise the tests say what to do.
import { existsSync } from 'node:fs';
import { note, run } from './project.mjs';

/** The paths test/support/browser.ts looks at, in its order (CHROMIUM_PATH first). */
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export async function ensureChromium() {
  if (CHROMIUM.some((path) => path && existsSync(path))) return;
  if (process.getuid?.() !== 0) {
    note(
      'chromium is missing and this is not root, so it cannot be installed: the dashboard tests will fail (apt-get install chromium, or set CHROMIUM_PATH)',
    );
    return;
  }
  note(
    "installing Debian's chromium with apt-get for the dashboard tests (first run only, ~1-2 min)",
  );
  const quiet = {
    stdio: ['ignore', process.stderr, 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  };
  try {
    await run('apt-get', ['update', '-q'], quiet);
    await run('apt-get', ['install', '-y', '-q', 'chromium'], quiet);
  } catch (error) {
    note(`could not install chromium (${error.message}): the dashboard tests will fail`);
  }
}
