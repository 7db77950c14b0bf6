import type { Server } from 'node:http';
import cookieParser from 'cookie-parser';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { newSession, writeSession } from '../../src/status/session.js';
import { RECHECK_AFTER_MS, requireMember } from '../../src/status/sign-in.js';
import { CookieJar, get } from './sign-in-http.js';

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

describe('requireMember', () => {
  it('asks GitLab again once the membership check is an hour old, and signs out someone who lost it', async () => {
    let now = 1_000_000;
    let level: number | null = 20;
    const asked: number[] = [];
    const deps = {
      settings: { appId: 'a', appSecret: 's', publicUrl: 'http://x', sessionSecret: 'x'.repeat(32) },
      gitlabUrl: 'http://gitlab',
      projectName: () => 'sales/requests',
      accessLevel: async (userId: number) => {
        asked.push(userId);
        return level;
      },
      denied: (res: express.Response, reason: string) => void res.status(403).send(reason),
      logger: pino({ level: 'silent' }),
      now: () => now,
    };
    const app = express();
    app.use(cookieParser(deps.settings.sessionSecret));
    app.get('/set', (_req, res) => {
      writeSession(res, newSession({ id: 7, username: 'alex.ae', name: 'Alex' }, 20, now));
      res.send('ok');
    });
    app.get('/page', requireMember(deps), (_req, res) => void res.send('page'));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server!.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const jar = new CookieJar();
    await get(`${base}/set`, jar);

    now += RECHECK_AFTER_MS - 1;
    expect((await get(`${base}/page`, jar)).status).toBe(200);
    expect(asked).toEqual([]);

    now += 2;
    expect((await get(`${base}/page`, jar)).status).toBe(200);
    expect(asked).toEqual([7]);
    // The check is fresh again: no second call within the hour.
    expect((await get(`${base}/page`, jar)).status).toBe(200);
    expect(asked).toEqual([7]);

    level = null;
    now += RECHECK_AFTER_MS;
    const refused = await get(`${base}/page`, jar);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('@alex.ae is not a member of sales/requests');
    expect(jar.header()).not.toContain('scale_bot_session');
    expect((await get(`${base}/page`, jar)).status).toBe(302);
  });
});
