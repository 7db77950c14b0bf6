import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../e2e/stack.js';
import { CHROMIUM_PATH, skipWithoutChromium } from '../helpers/chromium.js';
import { exampleConfig } from '../helpers/config.js';
import { useRedisServer } from '../helpers/redis.js';
import { deadLetter, fileRequest, startStatusStack } from './status-stack.js';

const skip = skipWithoutChromium('queue dashboard browser test');

const redis = useRedisServer();
let stack: (Stack & { pageUrl: string }) | null = null;
let browser: Browser | null = null;

describe.skipIf(skip)('queue dashboard in a real browser', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    stack = await startStatusStack(exampleConfig(), {
      queue: {
        kind: 'redis',
        url: redis().url,
        prefix: 't-board-browser',
        reconcileMinutes: 0,
        dashboard: true,
        lockSeconds: 30,
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH!, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs a member in on the way, shows the dead letter under its own CSP, and offers no action on it', async () => {
    const iid = await fileRequest(stack!);
    const dead = await deadLetter(stack!, iid);
    const page = await (await browser!.newContext()).newPage();
    // bull-board's stylesheet link to Google Fonts is refused on purpose (nothing is loaded from elsewhere).
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/.test(m.text()) && !m.text().includes('https://fonts.googleapis.com/'))
        refused.push(m.text());
    });
    const crashes: string[] = [];
    page.on('pageerror', (err) => crashes.push(err.message));

    await page.goto(`${stack!.pageUrl}/admin/queues/queue/passes?status=failed`);
    expect(page.url()).toContain(`${stack!.fake.url}/oauth/authorize`);
    await page.getByLabel('Signed in as (username)').fill('alex.ae');
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL(/\/admin\/queues\/queue\/passes\?status=failed$/);

    await page.getByText('GitLabHttpError').first().waitFor();
    expect(await page.getByText(`#${dead}`, { exact: true }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'reconcile' }).count()).toBe(1);
    expect(
      await page.getByRole('button', { name: /retry|clean|promote|remove|duplicate|add job|pause|empty/i }).count(),
    ).toBe(0);
    expect({ refused, crashes }).toEqual({ refused: [], crashes: [] });
    expect((await stack!.service.inbox.list({ failed: true })).map((j) => j.id)).toEqual([dead]);
    await page.context().close();
  });
});
