import { stableBucket } from '@assigner/domain';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { coursewareViewLine } from '../../workloads/synthetic-log';
import { AdminApiProcess, TOKENS } from '../support/admin-api';
import { launchChromium, watchPage, type PageWatch } from '../support/browser';
import { ROOT } from '../support/cli';
import { experiment, flag } from '../support/experiments';
import { waitFor } from '../support/real-services';
import { WorkerSystem } from '../support/worker-harness';

// The dashboard in a real browser (Debian's chromium, headless), over the admin API and a store
// filled by a real worker.

const COURSE = 'course-v1:MITx+6.00x+2026';
const EVEN = 'dashboard.even';
const SKEWED = 'dashboard.skewed';
const UNUSED = 'dashboard.unused';
const HOSTILE_USERNAME = '<img src=x onerror=alert(1)>';
const HOSTILE_USER_ID = 9_999;
const HOSTILE_BOUND = '"><img src=x onerror=alert(2)>';
/** Where the README's screenshots come from. */
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

/**
 * 240 learners: for the skewed experiment (global, so hashed on its name alone) three of four
 * were picked by their username's bucket to be in bucket 0, a split no fair hash gives. Page views
 * over three days.
 */
function learnerEvents(): string[] {
  const lines: string[] = [];
  let candidate = 0;
  for (let userId = 1; userId <= 240; userId++) {
    const wanted = userId % 4 === 0 ? 1 : 0;
    let username: string;
    do username = `learner${candidate++}`;
    while (stableBucket(SKEWED, 2, username) !== wanted);
    lines.push(
      coursewareViewLine(userId, COURSE, `2026-03-0${1 + (userId % 3)}T10:00:00Z`, username),
    );
  }
  lines.push(coursewareViewLine(HOSTILE_USER_ID, COURSE, '2026-03-03T12:00:00Z', HOSTILE_USERNAME));
  return lines;
}

describe('the dashboard', () => {
  const system = new WorkerSystem(2);
  const api = new AdminApiProcess({ MONGO_DB: system.database, SAMPLE_RATIO_CHECK_MS: '1000' });
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  const base = () => api.url('/dashboard/');

  beforeAll(async () => {
    await system.setUp({
      experiments: [
        experiment({ namespace: 'dashboard', name: 'even' }),
        experiment({
          namespace: 'dashboard',
          name: 'skewed',
          scope: 'global',
          courseAwareBucketing: false,
        }),
        experiment({
          namespace: 'dashboard',
          name: 'unused',
          triggers: ['enrollment'],
          flag: flag({ everyone: true }),
        }),
      ],
    });
    await api.start();
    await system.startWorker();
    await system.produce(learnerEvents(), true);
    await waitFor('the worker consumed every event', () => system.consumedEverything(), 60_000);
    // A change with markup in a value, made through the API: the history shows it.
    const current = await api.json<{ definition: { keyValues: Record<string, string> } }>(
      'GET',
      `/experiments/${EVEN}`,
      { token: TOKENS.reader },
    );
    const changed = await api.json('PUT', `/experiments/${EVEN}`, {
      token: TOKENS.editor,
      headers: { 'If-Match': current.headers.get('etag')! },
      body: { ...current.body.definition, keyValues: { enrollment_start: HOSTILE_BOUND } },
    });
    expect(changed.status).toBe(200);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    watch = watchPage(page);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await api.stop();
    await system.tearDown();
  });

  const signIn = async (token: string) => {
    await page.goto(base());
    await page.fill('#sign-in-form input[name=token]', token);
    await page.click('#sign-in-form button[type=submit]');
  };

  it('is served with a strict Content-Security-Policy and answers sign-in errors as the API says them', async () => {
    const response = await page.goto(base());
    const csp = response!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');

    await signIn('not-a-token-this-api-knows');
    await page.waitForSelector('.error');
    expect(await page.textContent('.error .problem-title')).toBe('Unauthorized');
    expect(await page.textContent('.error .problem-detail')).toContain('not one this API knows');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('lists the experiments of the store with their counts and a red alarm for the skewed one', async () => {
    await signIn(TOKENS.reader);
    await page.waitForSelector(`tr[data-experiment="${SKEWED}"] .sample-ratio .badge`);
    await page.waitForSelector(`tr[data-experiment="${EVEN}"] .sample-ratio .badge`);
    const row = (name: string) => page.locator(`tr[data-experiment="${name}"]`);
    expect(await row(SKEWED).locator('.sample-ratio .badge').getAttribute('data-srm')).toBe(
      'mismatch',
    );
    expect(await row(SKEWED).locator('.sample-ratio .badge').getAttribute('class')).toContain(
      'alarm',
    );
    expect(await row(EVEN).locator('.sample-ratio .badge').getAttribute('data-srm')).toBe('ok');
    expect(await row(UNUSED).locator('.sample-ratio .badge').getAttribute('data-srm')).toBe('none');
    const stats = await api.json<{ total: number }>('GET', `/experiments/${SKEWED}/stats`, {
      token: TOKENS.reader,
    });
    expect(await row(SKEWED).locator('.assignments').textContent()).toBe(String(stats.body.total));
    expect(stats.body.total).toBe(241);
    // The token is in this tab's storage and nowhere else.
    expect(await page.evaluate("sessionStorage.getItem('experiment-assigner.token')")).toBe(
      TOKENS.reader,
    );
    expect(await page.evaluate('document.cookie')).toBe('');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-experiments.png'), fullPage: true });
  });

  it("draws an experiment's split and days with the API's figures, and explains a decision as the API does", async () => {
    await page.goto(`${base()}#/experiment/${SKEWED}`);
    await page.waitForSelector('#bucket-split figure[data-chart]');
    const stats = (
      await api.json<{ buckets: number[]; forced: number[]; sampleRatio: { pValue: number } }>(
        'GET',
        `/experiments/${SKEWED}/stats`,
        { token: TOKENS.reader },
      )
    ).body;
    const split = JSON.parse((await page.getAttribute('#bucket-split figure', 'data-chart'))!) as {
      hashed: number[];
      forced: number[];
    };
    expect(split.hashed).toEqual(
      stats.buckets.map((count, bucket) => count - stats.forced[bucket]!),
    );
    expect(split.forced).toEqual(stats.forced);
    const daily = (
      await api.json<{ days: string[]; buckets: number[][] }>(
        'GET',
        `/experiments/${SKEWED}/stats/daily`,
        { token: TOKENS.reader },
      )
    ).body;
    expect(daily.days).toEqual(['2026-03-01', '2026-03-02', '2026-03-03']);
    expect(JSON.parse((await page.getAttribute('#daily figure', 'data-chart'))!)).toEqual({
      days: daily.days,
      buckets: daily.buckets,
    });
    expect(await page.getAttribute('#sample-ratio .badge', 'data-srm')).toBe('mismatch');
    expect(Number(await page.getAttribute('#sample-ratio .badge', 'data-p'))).toBe(
      stats.sampleRatio.pValue,
    );

    await page.fill('#explain-form input[name=user_id]', '8');
    await page.click('#explain-form button[type=submit]');
    await page.waitForSelector('#explain-result .decision');
    const explained = (
      await api.json<{ decision: { bucket: number }; stored: { bucket: number } }>(
        'GET',
        `/experiments/${SKEWED}/explain?user_id=8`,
        { token: TOKENS.reader },
      )
    ).body;
    expect(await page.getAttribute('#explain-result .decision', 'data-bucket')).toBe(
      String(explained.decision.bucket),
    );
    expect(await page.getAttribute('#explain-result .stored', 'data-bucket')).toBe(
      String(explained.stored.bucket),
    );
    expect(explained.decision.bucket).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-experiment.png'), fullPage: true });
  });

  it('sorts the per-course table and shows a definition change as a diff, markup as text', async () => {
    await page.goto(`${base()}#/experiment/${EVEN}`);
    await page.waitForSelector('#history li[data-revision="2"]');
    const change = await page.textContent('#history li[data-revision="2"] .diff');
    expect(change).toContain('keyValues.enrollment_start');
    expect(change).toContain(JSON.stringify(HOSTILE_BOUND));
    expect(await page.textContent('#history li[data-revision="2"]')).toContain('by alice');
    await page.waitForSelector('#courses table');
    await page.click('#courses th:nth-child(2) button');
    expect(await page.getAttribute('#courses th:nth-child(2)', 'aria-sort')).toBe('descending');
    expect(await page.locator('#app img').count()).toBe(0);
  });

  it("shows one learner's assignments with histories and message ids, the username as text", async () => {
    await page.goto(`${base()}#/learner/${HOSTILE_USER_ID}`);
    await page.waitForSelector('#learner-result .assignment');
    const assignments = (
      await api.json<{ assignments: { experiment: string; history: { messageId: string }[] }[] }>(
        'GET',
        `/assignments?user_id=${HOSTILE_USER_ID}`,
        { token: TOKENS.reader },
      )
    ).body.assignments;
    expect(await page.locator('#learner-result .assignment').count()).toBe(assignments.length);
    const text = await page.textContent('#learner-result');
    for (const assignment of assignments)
      for (const { messageId } of assignment.history) expect(text).toContain(messageId);
    expect(await page.textContent('#learner-result .username')).toContain(HOSTILE_USERNAME);
    expect(await page.locator('#app img').count()).toBe(0);
  });

  it("shows a name with quotes and markup from a link as text, in the API's problem", async () => {
    await page.goto(
      `${base()}#/experiment/${encodeURIComponent(`"><img src=x onerror=alert(3)>`)}`,
    );
    await page.waitForSelector('.error');
    expect(await page.textContent('.error .problem-title')).toBe('Bad Request');
    expect(await page.textContent('.error .problem-detail')).toContain(
      '<img src=x onerror=alert(3)>',
    );
    expect(await page.locator('#app img').count()).toBe(0);
  });

  it('shows empty states', async () => {
    await page.goto(`${base()}#/experiment/${UNUSED}`);
    await page.waitForSelector('text=No assignments yet.');
  });

  it('exports the live sample-ratio check for alerting', async () => {
    const line = (name: string) => `assigner_sample_ratio_mismatch{experiment="${name}"}`;
    await waitFor(
      'the gauges',
      async () => String((await api.request('GET', '/metrics')).body).includes(`${line(SKEWED)} 1`),
      15_000,
    );
    const metrics = String((await api.request('GET', '/metrics')).body);
    expect(metrics).toContain(`${line(EVEN)} 0`);
    expect(metrics).not.toContain(line(UNUSED));
    expect(metrics).toMatch(
      /assigner_sample_ratio_p_value\{experiment="dashboard.skewed"\} [0-9.e-]+/,
    );
  });

  it('never changed anything, ran no script it should not, and logged no error', () => {
    const apiRequests = watch.requests.filter(({ url }) => !url.includes('/dashboard/'));
    expect(apiRequests.length).toBeGreaterThan(10);
    expect(apiRequests.filter(({ method }) => method !== 'GET')).toEqual([]);
    for (const { url } of watch.requests) expect(url).not.toContain(TOKENS.reader);
    expect(watch.dialogs).toEqual([]);
    // Chromium logs each non-2xx answer; the page asked for two on purpose (a bad token, a bad name).
    const refused = /^Failed to load resource: the server responded with a status of (400|401)/;
    expect(watch.errors.filter((error) => !refused.test(error))).toEqual([]);
    expect(watch.errors.filter((error) => refused.test(error))).toHaveLength(2);
  });
});
