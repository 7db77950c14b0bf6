import { afterEach, describe, expect, it } from 'vitest';
import { exampleConfig } from '../helpers/config.js';
import { startStack, type Stack } from '../e2e/stack.js';
import { CookieJar, get, hiddenInputs, post, signIn } from './sign-in-http.js';
import { deadLetter, fileRequest, startStatusStack } from './status-stack.js';

let stack: (Stack & { pageUrl?: string }) | null = null;
afterEach(async () => {
  await stack?.stop();
  stack = null;
});

describe('status page over HTTP', () => {
  it('is off without the OAuth settings and says how to turn it on; probes and metrics stay open', async () => {
    stack = await startStack(exampleConfig());
    const page = await fetch(`${stack.service.url}/`);
    expect(page.status).toBe(503);
    const html = await page.text();
    for (const v of [
      'SCALE_BOT_OAUTH_APP_ID',
      'SCALE_BOT_OAUTH_SECRET',
      'SCALE_BOT_PUBLIC_URL',
      'SCALE_BOT_SESSION_SECRET',
    ])
      expect(html).toContain(v);
    expect((await fetch(`${stack.service.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${stack.service.url}/healthz`)).status).toBe(200);
  });

  it('signs a Reporter in with PKCE and shows the team, the requests and why, from GitLab', async () => {
    stack = await startStatusStack(exampleConfig());
    const iid = await fileRequest(stack);
    expect((await get(`${stack.pageUrl}/requests`, new CookieJar())).headers.get('location')).toBe(
      '/auth/sign-in?return=%2Frequests',
    );
    const { jar, callback } = await signIn(stack.pageUrl!, 'alex.ae');
    expect(callback.status).toBe(303);
    const cookie = callback.headers.getSetCookie().find((c) => c.startsWith('scale_bot_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    // PKCE: the token request carried the verifier of the challenge sent to /oauth/authorize.
    const authorize = stack.fake.calls.find((c) => c.method === 'GET' && c.path === '/oauth/authorize')!;
    expect(authorize.query).toMatchObject({ code_challenge_method: 'S256', scope: 'read_user' });
    expect(stack.fake.calls.find((c) => c.path === '/oauth/token')!.body).toHaveProperty('code_verifier');
    const team = await (await get(`${stack.pageUrl}/`, jar)).text();
    expect(team).toContain('Open engagements against capacity');
    expect(team).toContain('@drew.cse');
    const requests = await (await get(`${stack.pageUrl}/requests`, jar)).text();
    expect(requests).toContain(`#${iid} Scale engagement request: Northwind`);
    expect(requests).toContain(stack.fake.issue(iid).web_url);
    const writesBefore = stack.fake.writes().filter((c) => c.path.startsWith('/api/v4')).length;
    const why = await get(`${stack.pageUrl}/requests/${iid}/why`, jar);
    expect(why.status).toBe(200);
    const whyHtml = await why.text();
    expect(whyHtml).toContain('What a pass would do now');
    expect(whyHtml).toContain('Northwind Traders');
    // Read-only: looking at "why" wrote nothing to GitLab.
    expect(
      stack.fake.calls.some(
        (c) => c.method === 'GET' && c.path === `/api/v4/projects/sales%2Fscale-engagement-requests/issues/${iid}`,
      ),
    ).toBe(true);
    expect(stack.fake.writes().filter((c) => c.path.startsWith('/api/v4'))).toHaveLength(writesBefore);
  });

  it('refuses a non-member and a Guest with a page that says why', async () => {
    stack = await startStatusStack(exampleConfig());
    stack.fake.addOutsider('olive.outsider', 'Olive Outsider');
    stack.fake.addUser('gus.guest', 'Gus Guest', 'guest');
    const outsider = await signIn(stack.pageUrl!, 'olive.outsider');
    expect(outsider.callback.status).toBe(403);
    expect(await outsider.callback.text()).toContain(
      '@olive.outsider is not a member of sales/scale-engagement-requests',
    );
    expect((await get(`${stack.pageUrl}/`, outsider.jar)).status).toBe(302);
    const guest = await signIn(stack.pageUrl!, 'gus.guest');
    expect(guest.callback.status).toBe(403);
    expect(await guest.callback.text()).toContain('is a Guest in sales/scale-engagement-requests');
  });

  it('lets a manager retry a dead letter with the form token; an AE and a forged form are refused', async () => {
    stack = await startStatusStack(exampleConfig());
    const iid = await fileRequest(stack);
    const job = await deadLetter(stack, iid);

    const ae = await signIn(stack.pageUrl!, 'alex.ae');
    const aeBot = await (await get(`${stack.pageUrl}/bot`, ae.jar)).text();
    expect(aeBot).not.toContain('>Retry<');
    const aeToken = hiddenInputs(aeBot).csrf!;
    const refused = await post(`${stack.pageUrl}/bot/dead-letters/${job}/retry`, ae.jar, { csrf: aeToken });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Only managers may retry dead letters');

    const manager = await signIn(stack.pageUrl!, 'harper.mgr');
    const forged = await post(`${stack.pageUrl}/bot/dead-letters/${job}/retry`, manager.jar, { csrf: aeToken });
    expect(forged.status).toBe(403);
    expect(stack.service.inbox!.list({ failed: true })).toHaveLength(1);
    const botPage = await (await get(`${stack.pageUrl}/bot`, manager.jar)).text();
    expect(botPage).toContain(`aria-label="Retry job ${job}"`);
    // GitLab's count of the bot's calls, from the fake's RateLimit-* headers, beside the bot's own pacing.
    const botCalls = stack.fake.callsBy(stack.fake.botUsername).filter((c) => c.path.startsWith('/api/v4')).length;
    const left = Number(/(\d+) of 2000 a minute left \(throttle_authenticated_api\)/.exec(botPage)?.[1]);
    expect(left).toBeLessThan(2000);
    expect(left).toBeGreaterThanOrEqual(2000 - botCalls);
    expect(botPage).toContain(
      `<a href="${stack.fake.project.web_url}/-/pipeline_schedules">Build → Pipeline schedules</a>`,
    );
    expect(botPage).toContain('none since it started (it sweeps only after refusing deliveries)');
    expect(botPage).not.toContain('Not shown yet');
    expect(botPage).toContain('at most 60000 requests, 60000 new notes and 30 searches a minute'); // the e2e stack's pacing
    const retried = await post(`${stack.pageUrl}/bot/dead-letters/${job}/retry`, manager.jar, {
      csrf: hiddenInputs(botPage).csrf!,
    });
    expect(retried.status).toBe(303);
    expect(retried.headers.get('location')).toBe(`/bot?retried=${job}`);
    await stack.drain();
    expect(stack.service.inbox!.list({ failed: true })).toHaveLength(0);
  });
});
