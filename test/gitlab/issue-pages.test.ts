import nock from 'nock';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useNock } from '../helpers/nock.js';
import { startFakeGitLab } from '../../src/fake-gitlab/server.js';
import { GitLabClient } from '../../src/gitlab/client.js';
import { createRequester } from '../../src/gitlab/requester.js';

const logger = pino({ level: 'silent' });
const settings = { requestsPerMinute: 600_000, notesPerMinute: 6000, retries: 2, timeoutMs: 5000, minBackoffMs: 10, maxBackoffMs: 50 };
const clientFor = (url: string, project: string, token: string) => new GitLabClient({ url, token, project }, createRequester(settings, logger, null));

useNock();

const issue = (iid: number) => ({
  id: iid,
  iid,
  title: `t${iid}`,
  state: 'opened',
  author: { username: 'alex.ae' },
  labels: [],
  assignees: [],
  web_url: `https://gitlab.example.com/g/p/-/issues/${iid}`,
  created_at: '2026-11-22T09:00:00.000Z',
});

describe('GitLabClient.issuePages', () => {
  it('asks for 100 a page with the filters, follows X-Next-Page, and reads no total where GitLab sends none (past 10,000)', async () => {
    const api = nock('https://gitlab.example.com/api/v4');
    const query = (page: number) => ({ page: String(page), per_page: '100', order_by: 'created_at', sort: 'asc', state: 'opened', updated_after: '2026-11-01T00:00:00Z' });
    api.get('/projects/g%2Fp/issues').query(query(1)).reply(200, [issue(1)], { 'X-Next-Page': '2', 'X-Total': '10001', 'X-Total-Pages': '101' });
    api.get('/projects/g%2Fp/issues').query(query(2)).reply(200, [issue(2)], { 'X-Next-Page': '', 'X-Page': '2' });
    const pages = [];
    for await (const p of clientFor('https://gitlab.example.com', 'g/p', 'glpat-test').issuePages({ state: 'opened', updatedAfter: '2026-11-01T00:00:00Z' })) pages.push(p);
    expect(pages.map((p) => p.issues.map((i) => i.iid))).toEqual([[1], [2]]);
    expect(pages[0]!.total).toBe(10001);
    expect(pages[1]!.total).toBeNull();
  });

  it('reads all 10,050 issues of a project from the fake GitLab, each once, in order', async () => {
    const fake = await startFakeGitLab();
    try {
      fake.seedIssues(10_050, (i) => ({ createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000) }));
      const c = clientFor(fake.url, fake.project.path_with_namespace, fake.botToken);
      const iids: number[] = [];
      const totals: Array<number | null> = [];
      for await (const page of c.issuePages({})) {
        iids.push(...page.issues.map((i) => i.iid));
        totals.push(page.total);
      }
      expect(iids).toHaveLength(10_050);
      expect(new Set(iids).size).toBe(10_050);
      expect(iids).toEqual([...iids].sort((a, b) => a - b));
      expect(totals).toHaveLength(101);
      // Past 10,000 rows GitLab sends no totals at all.
      expect(totals.every((t) => t === null)).toBe(true);
    } finally {
      await fake.stop();
    }
  });
});
