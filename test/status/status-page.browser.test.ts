import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import type { Stack } from '../e2e/stack.js';
import { CHROMIUM_PATH, skipWithoutChromium } from '../helpers/chromium.js';
import { exampleConfig } from '../helpers/config.js';
import { startStatusStack } from './status-stack.js';

const skip = skipWithoutChromium('status page browser tests');

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let stack: (Stack & { pageUrl: string }) | null = null;
let browser: Browser | null = null;
let shots = '';
let iid = 0;
let deadJob = 0;

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** axe-core in the page (evaluated over the DevTools protocol, which the page's CSP does not govern): WCAG 2 A and AA, contrast included. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const { axe, document } = globalThis as unknown as {
      document: unknown;
      axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> };
    };
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
}

/** Opens the page, is sent to GitLab's consent page, authorizes as `username`, and comes back. */
async function signIn(username: string, path = '/'): Promise<Page> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  await page.goto(`${stack!.pageUrl}${path}`);
  expect(page.url()).toContain(`${stack!.fake.url}/oauth/authorize`);
  await page.getByLabel('Signed in as (username)').fill(username);
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForLoadState('load');
  return page;
}

describe.skipIf(skip)('status page in a real browser', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    shots = mkdtempSync(join(tmpdir(), 'scale-bot-status-shots-'));
    stack = await startStatusStack(exampleConfig());
    const config = exampleConfig();
    const sample = readFileSync(join(PACKAGE_ROOT, 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
    const description = `${sample.trimEnd()}\n\n/label ~"${config.catalog.segmentLabel('mm')}" ~"${config.catalog.regionLabel('amr')}"\n`;
    iid = (await stack.fake.as('alex.ae').createIssue({ title: 'Scale engagement request: Northwind', description }))
      .iid;
    await stack.drain();
    // A dead letter: GitLab forbids the next read of the issue (403 is not retried).
    stack.fake.failNext({ method: 'GET', path: new RegExp(`/issues/${iid}$`) }, { status: 403 });
    await stack.fake.as('alex.ae').comment(iid, 'any news?');
    await stack.drain();
    deadJob = (await stack.service.inbox.list({ failed: true }))[0]!.id;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH!, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    // STATUS_SHOTS=<dir> keeps a copy for a reviewer; the temporary directory always goes.
    if (process.env.STATUS_SHOTS) {
      mkdirSync(process.env.STATUS_SHOTS, { recursive: true });
      cpSync(shots, process.env.STATUS_SHOTS, { recursive: true });
    }
    if (shots) rmSync(shots, { recursive: true, force: true });
  });

  it('a manager signs in through the consent page, sees team and requests, opens a why, retries a dead letter', async () => {
    const page = await signIn('harper.mgr');
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Team');
    const team = page.getByRole('table', { name: /CSEs, their open engagements/ });
    expect(await team.getByRole('row').count()).toBeGreaterThan(3);
    expect(await team.textContent()).toContain('@drew.cse');
    expect(await page.locator('svg.chart').count()).toBe(1);
    await shoot(page, '1-team');
    expect(await axeViolations(page)).toEqual([]);

    // Keyboard only: Tab from the top reaches the Requests link; Enter follows it.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement?.textContent')) === 'Requests') break;
    }
    await Promise.all([page.waitForURL(/\/requests$/), page.keyboard.press('Enter')]);
    const row = page.getByRole('row', { name: new RegExp(`#${iid} Scale engagement request: Northwind`) });
    expect(
      await row.getByRole('link', { name: `#${iid} Scale engagement request: Northwind` }).getAttribute('href'),
    ).toBe(stack!.fake.issue(iid).web_url);
    await shoot(page, '2-requests');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel('Segment').selectOption('ent');
    await Promise.all([page.waitForURL(/segment=ent/), page.getByRole('button', { name: 'Filter' }).click()]);
    expect(await page.getByText('No open request matches.').count()).toBe(1);
    await page.getByLabel('Segment').selectOption('mm');
    await Promise.all([page.waitForURL(/segment=mm/), page.getByRole('button', { name: 'Filter' }).click()]);

    await Promise.all([page.waitForURL(/\/why$/), page.getByRole('link', { name: `Why: #${iid}` }).click()]);
    expect(await page.getByRole('heading', { name: 'What a pass would do now' }).count()).toBe(1);
    expect(await page.getByRole('table', { name: 'Gates and signals' }).textContent()).toContain('pass');
    await shoot(page, '3-why');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'The bot' }).click();
    await page.waitForURL(/\/bot$/);
    await shoot(page, '4-bot');
    expect(await axeViolations(page)).toEqual([]);
    await Promise.all([
      page.waitForURL(/retried=/),
      page.getByRole('button', { name: `Retry job ${deadJob}` }).click(),
    ]);
    expect(await page.getByRole('status').textContent()).toBe(`Job ${deadJob} is queued again.`);
    await shoot(page, '5-retried');
    await stack!.drain();
    expect(stack!.service.inbox!.list({ failed: true })).toHaveLength(0);
    await page.context().close();
  });

  it('an AE sees no Retry button and is refused when sending the form anyway', async () => {
    stack!.fake.failNext({ method: 'GET', path: new RegExp(`/issues/${iid}$`) }, { status: 403 });
    await stack!.fake.as('alex.ae').comment(iid, 'still waiting');
    await stack!.drain();
    const job = (await stack!.service.inbox.list({ failed: true }))[0]!.id;
    const page = await signIn('alex.ae', '/bot');
    expect(new URL(page.url()).pathname).toBe('/bot');
    expect(await page.getByRole('button', { name: /Retry/ }).count()).toBe(0);
    // The AE's own session token, in a form they build themselves: still not a manager.
    const token = await page.locator('input[name=csrf]').first().inputValue();
    await page.evaluate(`(() => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = '/bot/dead-letters/${job}/retry';
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'csrf';
      input.value = ${JSON.stringify(token)};
      form.append(input);
      document.body.append(form);
      form.submit();
    })()`);
    await page.waitForLoadState('load');
    await page.getByText('Only managers may retry dead letters').waitFor();
    await shoot(page, '6-ae-refused');
    expect(await axeViolations(page)).toEqual([]);
    expect((await stack!.service.inbox.list({ failed: true })).map((j) => j.id)).toEqual([job]);
    await page.context().close();
  });

  it('someone who is no member of the project gets a 403 page that says why', async () => {
    stack!.fake.addOutsider('olive.outsider', 'Olive Outsider');
    const page = await signIn('olive.outsider');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('You cannot see this page');
    expect(await page.textContent('main')).toContain(
      '@olive.outsider is not a member of sales/scale-engagement-requests',
    );
    await shoot(page, '7-not-a-member');
    expect(await axeViolations(page)).toEqual([]);
    await page.goto(`${stack!.pageUrl}/`);
    expect(page.url()).toContain('/oauth/authorize');
    await page.context().close();
  });
});
