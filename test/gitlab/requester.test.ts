import nock from 'nock';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useNock } from '../helpers/nock.js';
import { GitLabClient } from '../../src/gitlab/client.js';
import { AmbiguousWriteError, GitLabHttpError } from '../../src/gitlab/errors.js';
import {
  createRequester,
  endpointName,
  readRateLimit,
  retryAfterMs,
  type Requester,
} from '../../src/gitlab/requester.js';
import { createMetrics } from '../../src/metrics/metrics.js';

const GITLAB = 'https://gitlab.example.com';
const API = `${GITLAB}/api/v4`;
const logger = pino({ level: 'silent' });

function client(overrides: Partial<Parameters<typeof createRequester>[0]> = {}): {
  client: GitLabClient;
  requester: Requester;
  metrics: ReturnType<typeof createMetrics>;
} {
  const metrics = createMetrics();
  const requester = createRequester(
    {
      requestsPerMinute: 6000,
      notesPerMinute: 6000,
      searchesPerMinute: 6000,
      retries: 3,
      timeoutMs: 2000,
      minBackoffMs: 10,
      maxBackoffMs: 50,
      ...overrides,
    },
    logger,
    metrics,
  );
  return {
    client: new GitLabClient({ url: GITLAB, token: 'glpat-test', project: 'sales/requests' }, requester),
    requester,
    metrics,
  };
}

const issue = {
  id: 1,
  iid: 7,
  title: 't',
  description: 'd',
  state: 'opened',
  author: { username: 'alex.ae' },
  labels: [],
  assignees: [],
  web_url: `${GITLAB}/sales/requests/-/issues/7`,
  created_at: '2026-11-22T09:00:00.000Z',
  extra_field: { ignored: true },
};

useNock();

describe('GitLab requester and client', () => {
  it('sends the token, encodes the project path, validates and tolerates extra fields', async () => {
    const { client: c } = client();
    nock(API, { reqheaders: { 'private-token': 'glpat-test' } })
      .get('/projects/sales%2Frequests/issues/7')
      .reply(200, issue);
    const got = await c.issue(7);
    expect(got).toMatchObject({ iid: 7, title: 't', state: 'opened' });
  });

  it('edits labels and assignees in one PUT with comma-separated label changes', async () => {
    const { client: c } = client();
    let body: unknown;
    nock(API)
      .put('/projects/sales%2Frequests/issues/7', (b) => {
        body = b;
        return true;
      })
      .reply(200, issue);
    await c.editIssue(7, {
      addLabels: ['engagement::assigned', 'priority::high'],
      removeLabels: ['engagement::new'],
      assigneeIds: [42],
    });
    expect(body).toEqual({
      add_labels: 'engagement::assigned,priority::high',
      remove_labels: 'engagement::new',
      assignee_ids: [42],
    });
  });

  it('honours Retry-After on 429 and then succeeds; the wait is counted', async () => {
    const { client: c, requester, metrics } = client();
    nock(API)
      .get('/projects/sales%2Frequests/issues/7')
      .reply(429, { message: '429 Too Many Requests' }, { 'Retry-After': '1' });
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, issue);
    const started = Date.now();
    await c.issue(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(requester.waitedMs()).toBeGreaterThanOrEqual(900);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /scale_bot_gitlab_requests_total\{endpoint="projects\/:id\/issues\/:iid",method="GET",status="429"\} 1/,
    );
  });

  it('honours Retry-After on a 503 too (GitLab in maintenance), and then succeeds', async () => {
    const { client: c, requester } = client();
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(503, 'Service Unavailable', { 'Retry-After': '1' });
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, issue);
    const started = Date.now();
    await c.issue(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(requester.waitedMs()).toBeGreaterThanOrEqual(900);
  });

  it('paces itself: at 600 requests/min, 25 requests take two one-second windows after the first 10', async () => {
    const { client: c, requester } = client({ requestsPerMinute: 600 });
    nock(API).get('/projects/sales%2Frequests/issues/7').times(25).reply(200, issue);
    const started = Date.now();
    const done: number[] = [];
    await Promise.all(Array.from({ length: 25 }, () => c.issue(7).then(() => done.push(Date.now() - started))));
    done.sort((a, b) => a - b);
    expect(done[9]!).toBeLessThan(900);
    expect(done[10]!).toBeGreaterThanOrEqual(950);
    expect(done[24]!).toBeGreaterThanOrEqual(1950);
    expect(requester.waitedMs()).toBeGreaterThan(0);
  });

  it('paces searches to the search limit on their own: the third of 2/min waits, other calls do not', async () => {
    const { client: c, requester } = client({ searchesPerMinute: 2 });
    nock(API).get('/projects/sales%2Frequests/issues').query(true).times(2).reply(200, [issue]);
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, issue);
    await c.findOwnIssue('Acme', 'scale-bot::operations');
    await c.findOwnIssue('Acme', 'scale-bot::operations');
    let third = false;
    const waiting = c.findOwnIssue('Acme', 'scale-bot::operations').then(
      () => (third = true),
      (e: unknown) => e,
    );
    // An ordinary read is not held behind the search limit.
    await c.issue(7);
    await new Promise((r) => setTimeout(r, 300));
    expect(third).toBe(false);
    await requester.stop();
    expect(await waiting).toMatchObject({ message: expect.stringMatching(/stopped/) });
  });

  it('a stop ends a Retry-After wait at once', async () => {
    const { client: c, requester } = client();
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(429, {}, { 'Retry-After': '60' });
    const waiting = c.issue(7).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await requester.stop();
    expect(await waiting).toMatchObject({ message: expect.stringMatching(/stopped/) });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a stopped requester drops the calls still waiting for their turn', async () => {
    const { client: c, requester } = client({ requestsPerMinute: 60 });
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, issue);
    await c.issue(7);
    const waiting = c.issue(7).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await requester.stop();
    expect(await waiting).toMatchObject({ message: expect.stringMatching(/stopped/) });
    // And nothing new starts once stopped.
    expect(await c.issue(7).catch((e: unknown) => e)).toMatchObject({ message: expect.stringMatching(/stopped/) });
  });

  it('retries 500/502 with backoff, then gives up with the last error', async () => {
    const { client: c } = client({ retries: 2 });
    nock(API).get('/projects/sales%2Frequests/issues/7').times(3).reply(502, 'Bad Gateway');
    await expect(c.issue(7)).rejects.toMatchObject({ name: 'GitLabHttpError', status: 502 });
  });

  it('does not retry a 404 or 403', async () => {
    const { client: c } = client();
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(404, { message: '404 Not found' });
    const err = await c.issue(7).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitLabHttpError);
    expect((err as GitLabHttpError).status).toBe(404);
  });

  it('never retries a note POST whose outcome is unknown (500 or timeout)', async () => {
    const { client: c } = client({ timeoutMs: 300 });
    nock(API).post('/projects/sales%2Frequests/issues/7/notes').reply(500, { message: 'boom' });
    await expect(c.createNote(7, 'hello')).rejects.toBeInstanceOf(AmbiguousWriteError);
    nock(API)
      .post('/projects/sales%2Frequests/issues/7/notes')
      .delay(1000)
      .reply(201, { id: 1, body: 'hello', author: { username: 'scale-bot' } });
    await expect(c.createNote(7, 'hello')).rejects.toBeInstanceOf(AmbiguousWriteError);
  });

  it('retries a note POST answered 429 (GitLab did not take it)', async () => {
    const { client: c } = client();
    nock(API)
      .post('/projects/sales%2Frequests/issues/7/notes', { body: 'hello' })
      .reply(429, {}, { 'Retry-After': '0' });
    nock(API)
      .post('/projects/sales%2Frequests/issues/7/notes', { body: 'hello' })
      .reply(201, { id: 5, body: 'hello', author: { username: 'scale-bot' } });
    expect((await c.createNote(7, 'hello')).id).toBe(5);
  });

  it('rejects an answer of the wrong shape with a clear error', async () => {
    const { client: c } = client();
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, { iid: 'seven' });
    await expect(c.issue(7)).rejects.toThrow(/unexpected shape/);
  });

  it('reads every page of notes (Link / x-next-page)', async () => {
    const { client: c } = client();
    const note = (id: number) => ({ id, body: `n${id}`, author: { username: 'x' }, system: false });
    nock(API)
      .get('/projects/sales%2Frequests/issues/7/notes')
      .query((q) => q.page === undefined || q.page === '1')
      .reply(200, [note(1), note(2)], {
        'x-next-page': '2',
        'x-page': '1',
        'x-total-pages': '2',
        link: `<${API}/projects/sales%2Frequests/issues/7/notes?page=2&per_page=100>; rel="next"`,
      });
    nock(API)
      .get('/projects/sales%2Frequests/issues/7/notes')
      .query((q) => q.page === '2')
      .reply(200, [note(3)], { 'x-next-page': '', 'x-page': '2', 'x-total-pages': '2' });
    expect((await c.allNotes(7)).map((n) => n.id)).toEqual([1, 2, 3]);
  });

  it('caches user ids', async () => {
    const { client: c } = client();
    nock(API)
      .get('/users')
      .query({ username: 'drew.cse' })
      .once()
      .reply(200, [{ id: 42, username: 'drew.cse' }]);
    expect(await c.userId('drew.cse')).toBe(42);
    expect(await c.userId('Drew.CSE')).toBe(42);
  });
});

describe('retryAfterMs and endpointName', () => {
  it.each([
    ['5', 5000],
    ['0', 0],
    ['', null],
    [null, null],
    ['soon', null],
  ])('Retry-After %j → %j ms', (v, ms) => {
    expect(retryAfterMs(v, 0)).toBe(ms);
  });
  it('reads an HTTP date', () => {
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
  });
  it('names endpoints without ids', () => {
    expect(endpointName('projects/sales%2Frequests/issues/17/notes/99')).toBe(
      'projects/:id/issues/:iid/notes/:note_id',
    );
    expect(endpointName('users')).toBe('users');
    expect(endpointName('projects/1/members/all/42')).toBe('projects/:id/members/all/:user_id');
  });
});

describe('GitLab rate-limit headers', () => {
  const headers = (observed: number, extra: Record<string, string> = {}) => ({
    'RateLimit-Limit': '2000',
    'RateLimit-Observed': String(observed),
    'RateLimit-Remaining': String(2000 - observed),
    'RateLimit-Reset': '1796600000',
    ...extra,
  });

  it('keeps the latest RateLimit-* values GitLab sent; an answer without them changes nothing', async () => {
    const { client: c, requester } = client();
    expect(requester.rateLimit()).toBeNull();
    nock(API)
      .get('/projects/sales%2Frequests/issues/7')
      .reply(200, issue, headers(5, { 'RateLimit-Name': 'throttle_authenticated_api' }));
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, issue, headers(6));
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, issue);
    await c.issue(7);
    expect(requester.rateLimit()).toMatchObject({
      name: 'throttle_authenticated_api',
      limit: 2000,
      observed: 5,
      remaining: 1995,
      resetAt: 1_796_600_000_000,
    });
    await c.issue(7);
    expect(requester.rateLimit()).toMatchObject({ name: null, observed: 6, remaining: 1994 });
    await c.issue(7);
    expect(requester.rateLimit()).toMatchObject({ observed: 6, remaining: 1994 });
  });

  it('reads them from a refusal too (GitLab sends them with its 429)', async () => {
    const { client: c, requester } = client();
    nock(API)
      .get('/projects/sales%2Frequests/issues/7')
      .reply(
        429,
        { message: '429 Too Many Requests' },
        { ...headers(2001), 'RateLimit-Remaining': '0', 'Retry-After': '0' },
      );
    nock(API).get('/projects/sales%2Frequests/issues/7').reply(200, issue);
    await c.issue(7);
    expect(requester.rateLimit()).toMatchObject({ limit: 2000, remaining: 0, observed: 2001 });
  });

  it('ignores headers that are not whole numbers', () => {
    expect(readRateLimit({ 'ratelimit-limit': 'lots', 'ratelimit-remaining': '1' }, 0)).toBeNull();
    expect(readRateLimit({ 'ratelimit-limit': '60' }, 0)).toBeNull();
    expect(
      readRateLimit({ 'ratelimit-limit': '60', 'ratelimit-remaining': '59', 'ratelimit-reset': 'soon' }, 5),
    ).toEqual({ name: null, limit: 60, remaining: 59, observed: null, resetAt: null, seenAt: 5 });
  });
});
