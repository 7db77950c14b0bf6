import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli.js';
import { CookieJar, get } from '../status/sign-in-http.js';

/** Follows redirects by hand, keeping cookies per name as a browser would; returns the last answer. */
async function follow(url: string, jar: CookieJar): Promise<{ res: Response; hops: string[] }> {
  const hops = [url];
  let res = await get(url, jar);
  while (res.status >= 300 && res.status < 400 && hops.length < 10) {
    const next = new URL(res.headers.get('location')!, hops.at(-1)).toString();
    hops.push(next);
    res = await get(next, jar);
  }
  return { res, hops };
}

describe('scale-bot demo --open', () => {
  it('keeps the status page up, signed in as the demo manager through the fake GitLab, until SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/scale-bot.js', 'demo', '--open'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = once(child, 'exit');
    try {
      while (!/Status page: (\S+)/.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`demo exited ${child.exitCode}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const url = /Status page: (\S+)/.exec(stdout)![1]!;
      expect(stdout).toMatch(/signs you in as harper\.mgr/);
      const { res, hops } = await follow(url, new CookieJar());
      // The real sign-in path: the page, its sign-in, GitLab's authorize, the callback, back to the page.
      expect(hops.map((h) => new URL(h).pathname)).toEqual([
        '/',
        '/auth/sign-in',
        '/oauth/authorize',
        '/auth/callback',
        '/',
      ]);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<h1>Team</h1>');
      expect(html).toContain('(@harper.mgr, manager)');
      expect(html).toContain('casey.cse');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stderr).toBe('');
  }, 90_000);
});
