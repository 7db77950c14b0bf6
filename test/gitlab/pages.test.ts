import nock from 'nock';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useNock } from '../helpers/nock.js';
import { startFakeGitLab } from '../../src/fake-gitlab/server.js';
import { GitLabClient } from '../../src/gitlab/client.js';
import { createRequester } from '../../src/gitlab/requester.js';

const logger = pino({ level: 'silent' });
const settings = {
  requestsPerMinute: 600_000,
  notesPerMinute: 6000,
  searchesPerMinute: 6000,
  retries: 2,
  timeoutMs: 5000,
  minBackoffMs: 10,
  maxBackoffMs: 50,
};
const clientFor = (url: string, project: string, token: string) =>
  new GitLabClient({ url, token, project }, createRequester(settings, logger, null));

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
    const query = (page: number) => ({
      page: String(page),
      per_page: '100',
      order_by: 'created_at',
      sort: 'asc',
      state: 'opened',
      updated_after: '2026-11-01T00:00:00Z',
    });
    api
      .get('/projects/g%2Fp/issues')
      .query(query(1))
      .reply(200, [issue(1)], { 'X-Next-Page': '2', 'X-Total': '10001', 'X-Total-Pages': '101' });
    api
      .get('/projects/g%2Fp/issues')
      .query(query(2))
      .reply(200, [issue(2)], { 'X-Next-Page': '', 'X-Page': '2' });
    const pages = [];
    for await (const p of clientFor('https://gitlab.example.com', 'g/p', 'glpat-test').issuePages({
      state: 'opened',
      updatedAfter: '2026-11-01T00:00:00Z',
    }))
      pages.push(p);
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

describe('notes and label events: every page, whichever pagination headers the server sends', () => {
  const API = 'https://gitlab.example.com/api/v4';
  const NOTES = '/projects/g%2Fp/issues/7/notes';
  const note = (id: number) => ({
    id,
    body: `n${id}`,
    author: { username: 'alex.ae' },
    system: false,
    created_at: '2026-11-22T09:00:00.000Z',
  });
  const notes = (from: number, count: number) => Array.from({ length: count }, (_, i) => note(from + i));
  const query = (page: number) => ({ page: String(page), per_page: '100', sort: 'asc', order_by: 'created_at' });
  const c = () => clientFor('https://gitlab.example.com', 'g/p', 'glpat-test');

  it('as GitLab does (X-Next-Page and Link): 250 notes in three calls', async () => {
    const api = nock(API);
    const link = (page: number) => ({
      Link: `<${API}${NOTES}?page=${page}&per_page=100>; rel="next"`,
      'X-Next-Page': String(page),
    });
    api.get(NOTES).query(query(1)).reply(200, notes(1, 100), link(2));
    api.get(NOTES).query(query(2)).reply(200, notes(101, 100), link(3));
    api.get(NOTES).query(query(3)).reply(200, notes(201, 50), { 'X-Next-Page': '' });
    expect((await c().allNotes(7)).map((n) => n.id)).toEqual(notes(1, 250).map((n) => n.id));
  });

  it('with only Link headers (no X-Next-Page): a full page means another one is asked for', async () => {
    const api = nock(API);
    api
      .get(NOTES)
      .query(query(1))
      .reply(200, notes(1, 100), { Link: `<${API}${NOTES}?page=2&per_page=100>; rel="next"` });
    api
      .get(NOTES)
      .query(query(2))
      .reply(200, notes(101, 100), { Link: `<${API}${NOTES}?page=3&per_page=100>; rel="next"` });
    api.get(NOTES).query(query(3)).reply(200, [], {});
    expect(await c().allNotes(7)).toHaveLength(200);
  });

  it('with no pagination headers: a short page ends the walk, and a server that ignores page is not read for ever', async () => {
    nock(API).get(NOTES).query(query(1)).reply(200, notes(1, 100)).get(NOTES).query(query(2)).reply(200, notes(101, 3));
    expect(await c().allNotes(7)).toHaveLength(103);
    nock(API).get(NOTES).query(query(1)).reply(200, notes(1, 100)).get(NOTES).query(query(2)).reply(200, notes(1, 100));
    expect(await c().allNotes(7)).toHaveLength(100);
  });

  it('label events too', async () => {
    const EVENTS = '/projects/g%2Fp/issues/7/resource_label_events';
    const event = (id: number) => ({
      id,
      user: { username: 'drew.cse' },
      created_at: '2026-11-22T09:00:00.000Z',
      label: { name: 'engagement::accepted' },
      action: 'add',
    });
    const api = nock(API);
    api
      .get(EVENTS)
      .query({ page: '1', per_page: '100' })
      .reply(
        200,
        Array.from({ length: 100 }, (_, i) => event(i + 1)),
        { 'X-Next-Page': '2' },
      );
    api
      .get(EVENTS)
      .query({ page: '2', per_page: '100' })
      .reply(200, [event(101)], { 'X-Next-Page': '' });
    expect(await c().labelEvents(7)).toHaveLength(101);
  });
});
