import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's chromium (npm test installs it with apt-get when missing). The binary itself rather
 * than /usr/bin/chromium, whose wrapper script misreads /dev/shm on some machines.
 */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export async function launchChromium(): Promise<Browser> {
  const executablePath = CANDIDATES.find((path) => path && existsSync(path));
  if (!executablePath)
    throw new Error(
      "no chromium: `npm test` installs Debian's package with apt-get when it runs as root; otherwise run `apt-get install chromium` or set CHROMIUM_PATH",
    );
  return chromium.launch({
    executablePath,
    headless: true,
    // Root has no sandbox; /dev/shm may be small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** What a page did that a user would call broken: console errors, uncaught errors, dialogs. */
export interface PageWatch {
  errors: string[];
  dialogs: string[];
  /** Every request the page made: method and URL. */
  requests: { method: string; url: string }[];
}

export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { errors: [], dialogs: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(message.text());
  });
  page.on('pageerror', (error) => watch.errors.push(`uncaught: ${error.message}`));
  page.on('dialog', (dialog) => {
    watch.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('request', (request) =>
    watch.requests.push({ method: request.method(), url: request.url() }),
  );
  // A blocked script or style is reported as a console error too, but name it plainly.
  void page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));",
  );
  return watch;
}
