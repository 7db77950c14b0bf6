import { afterEach, describe, expect, it } from 'vitest';
import type { QueueSettings } from '../../src/service/settings.js';
import { exampleConfig } from '../helpers/config.js';
import { useRedisServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../e2e/stack.js';
import { CookieJar, get, signIn } from './sign-in-http.js';
import { deadLetter, fileRequest, startStatusStack } from './status-stack.js';

/** The queue dashboard at /admin/queues (#17): bull-board over the Redis queues, read-only, behind the status page's sign-in. */

const redis = useRedisServer();
let stack: (Stack & { pageUrl?: string }) | null = null;
let prefixes = 0;

afterEach(async () => {
  await stack?.stop();
  stack = null;
});

/** Redis mode on the test's redis-server, each stack under its own key prefix. */
const onRedis = (dashboard: boolean, reconcileMinutes = 0): QueueSettings => ({
  kind: 'redis',
  url: redis().url,
  prefix: `t-board-${++prefixes}`,
  reconcileMinutes,
  dashboard,
  lockSeconds: 30,
});

interface ApiJob {
  id: string;
  data: { projectId: number; iid: number };
}
interface ApiQueue {
  name: string;
  readOnlyMode: boolean;
  allowRetries: boolean;
  counts: Record<string, number>;
  jobs: ApiJob[];
}

/** No queue listing and no job in an answer (its path may be echoed: a redirect names where it was going). */
function expectNoJobData(body: string, iid: number): void {
  expect(body).not.toMatch(/"queues"|"jobs"|"counts"/);
  expect(body).not.toContain(`"iid":${iid}`);
}

async function send(url: string, jar: CookieJar, method: string): Promise<Response> {
  return fetch(url, {
    method,
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/json' },
  });
}

describe('the Bot tab on Redis', () => {
  it('says the scheduled sweep runs in the service, and how often', async () => {
    stack = await startStatusStack(exampleConfig(), { queue: onRedis(false, 30) });
    const { jar } = await signIn(stack.pageUrl!, 'alex.ae');
    const bot = await (await get(`${stack.pageUrl}/bot`, jar)).text();
    expect(bot).toContain('runs in the service every 30 minutes, on one replica each time');
    expect(bot).not.toContain('Pipeline schedules');
  });
});

describe('queue dashboard', () => {
  it('sends a visitor without a session to sign in, showing no job', async () => {
    stack = await startStatusStack(exampleConfig(), { queue: onRedis(true) });
    const iid = await fileRequest(stack);
    const jar = new CookieJar();
    for (const path of ['/admin/queues', '/admin/queues/api/queues?activeQueue=passes&status=completed']) {
      const res = await get(`${stack.pageUrl}${path}`, jar);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`/auth/sign-in?return=${encodeURIComponent(path)}`);
      expectNoJobData(await res.text(), iid);
    }
    const retry = await send(`${stack.pageUrl}/admin/queues/api/queues/passes/retry/failed`, jar, 'PUT');
    expect(retry.status).toBe(401);
    expectNoJobData(await retry.text(), iid);
  });

  it('shows a member the dashboard and the pass queue with its jobs, read-only', async () => {
    stack = await startStatusStack(exampleConfig(), { queue: onRedis(true) });
    const iid = await fileRequest(stack);
    const dead = await deadLetter(stack, iid);
    const { jar } = await signIn(stack.pageUrl!, 'alex.ae');

    const bot = await (await get(`${stack.pageUrl}/bot`, jar)).text();
    expect(bot).toContain('<a href="/admin/queues">Queue dashboard</a> (read-only)');
    // On Redis the replicas sweep themselves (switched off in these stacks), not a CI job.
    expect(bot).toContain('off in the service (<code>SCALE_BOT_RECONCILE_MINUTES=0</code>)');
    expect(bot).not.toContain('Pipeline schedules');
    const page = await get(`${stack.pageUrl}/admin/queues`, jar);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/" />');
    expect(html).toContain('<title>scale-bot queues</title>');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-powered-by')).toBeNull();
    // The UI's own script, under the base path.
    const script = /<script defer src="(static\/js\/main\.[^"]+\.js)"><\/script>/.exec(html)![1]!;
    const asset = await get(`${stack.pageUrl}/admin/queues/${script}`, jar);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);

    const api = await get(`${stack.pageUrl}/admin/queues/api/queues?activeQueue=passes&status=failed`, jar);
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: ApiQueue[] };
    expect(queues.map((q) => q.name).sort()).toEqual(['passes', 'reconcile']);
    const passes = queues.find((q) => q.name === 'passes')!;
    expect(passes).toMatchObject({ readOnlyMode: true, allowRetries: false });
    expect(passes.counts.failed).toBe(1);
    expect(passes.jobs.map((j) => [j.id, j.data.iid])).toEqual([[String(dead), iid]]);
    expect(queues.find((q) => q.name === 'reconcile')!.readOnlyMode).toBe(true);

    const completed = await get(`${stack.pageUrl}/admin/queues/api/queues?activeQueue=passes&status=completed`, jar);
    const done = ((await completed.json()) as { queues: ApiQueue[] }).queues.find((q) => q.name === 'passes')!;
    expect(done.jobs.length).toBeGreaterThan(0);
    expect(done.jobs.every((j) => j.data.iid === iid)).toBe(true);
  });

  it('refuses every action, even to a manager: retry, clean, promote, add, pause and obliterate', async () => {
    stack = await startStatusStack(exampleConfig(), { queue: onRedis(true) });
    const iid = await fileRequest(stack);
    const dead = await deadLetter(stack, iid);
    const { jar } = await signIn(stack.pageUrl!, 'harper.mgr');
    const base = `${stack.pageUrl}/admin/queues/api/queues`;
    const actions: Array<[string, string]> = [
      ['PUT', `${base}/passes/${dead}/retry`],
      ['PUT', `${base}/passes/retry/failed`],
      ['PUT', `${base}/passes/clean/completed`],
      ['PUT', `${base}/passes/${dead}/clean`],
      ['PUT', `${base}/passes/promote`],
      ['POST', `${base}/passes/add`],
      ['PUT', `${base}/pause`],
      ['PUT', `${base}/passes/obliterate`],
      ['PATCH', `${base}/passes/${dead}/update-data`],
    ];
    for (const [method, url] of actions) {
      const res = await send(url, jar, method);
      expect({ method, url, status: res.status }).toEqual({ method, url, status: 405 });
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    // Nothing moved: the dead letter is still one, the finished passes are still there.
    expect((await stack.service.inbox.list({ failed: true })).map((j) => j.id)).toEqual([dead]);
    expect((await stack.service.inbox.depth()).done).toBeGreaterThan(0);
    expect(await stack.service.inbox.list({})).not.toHaveLength(0);
  });

  it('is not there when switched off, in SQLite mode, or without the sign-in', async () => {
    const cases: Array<[string, () => Promise<Stack & { pageUrl?: string }>]> = [
      ['off', () => startStatusStack(exampleConfig(), { queue: onRedis(false) })],
      ['sqlite', () => startStatusStack(exampleConfig())],
    ];
    for (const [name, start] of cases) {
      stack = await start();
      const iid = await fileRequest(stack);
      const { jar } = await signIn(stack.pageUrl!, 'alex.ae');
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        const res = await get(`${stack.pageUrl}${path}`, jar);
        expect({ name, path, status: res.status }).toEqual({ name, path, status: 404 });
        expectNoJobData(await res.text(), iid);
      }
      expect(await (await get(`${stack.pageUrl}/bot`, jar)).text()).not.toContain('Queue dashboard');
      await stack.stop();
      stack = null;
    }
    // Settings refuse the dashboard without sign-in; were it wired anyway, the page that is off serves none of it.
    stack = await startStack(exampleConfig(), { settings: { queue: onRedis(true) } });
    const iid = await fileRequest(stack);
    for (const path of ['/admin/queues', '/admin/queues/api/queues?activeQueue=passes&status=completed']) {
      const res = await fetch(`${stack.service.url}${path}`, { redirect: 'manual' });
      expect(res.status).toBe(404);
      expectNoJobData(await res.text(), iid);
    }
  });
});
