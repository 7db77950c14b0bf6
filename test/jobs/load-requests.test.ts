import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import nock from 'nock';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { GitLabClient } from '../../src/gitlab/client.js';
import { createRequester } from '../../src/gitlab/requester.js';
import { loadRequests } from '../../src/jobs/load-requests.js';
import { exampleConfig } from '../helpers/config.js';
import { useNock } from '../helpers/nock.js';

const API = 'https://gitlab.example.com/api/v4';
const logger = pino({ level: 'silent' });
const description = readFileSync(resolve(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
const request = (iid: number, extra: Record<string, unknown> = {}) => ({
  id: 100 + iid,
  iid,
  title: `Request ${iid}`,
  description,
  state: 'closed',
  author: { username: 'alex.ae' },
  labels: ['engagement::assigned'],
  assignees: [],
  web_url: `https://gitlab.example.com/sales/requests/-/issues/${iid}`,
  created_at: '2026-11-02T09:00:00.000Z',
  closed_at: '2026-11-03T09:00:00.000Z',
  ...extra,
});

useNock();

describe('loadRequests', () => {
  it('reads requests, and skips issues moved to another project, tasks and the bot\'s own issues without asking for their history', async () => {
    const client = new GitLabClient(
      { url: 'https://gitlab.example.com', token: 'glpat-test', project: 4 },
      createRequester({ requestsPerMinute: 60_000, notesPerMinute: 6000, searchesPerMinute: 6000, retries: 0, timeoutMs: 2000, minBackoffMs: 1, maxBackoffMs: 1 }, logger, null),
    );
    const issues = [request(1), request(2, { moved_to_id: 9001 }), request(3, { issue_type: 'task' }), request(4, { labels: ['scale-bot::operations'] })];
    nock(API)
      .get('/projects/4/issues')
      .query(true)
      .reply(200, issues, { 'X-Next-Page': '' })
      .get('/projects/4/issues/1/resource_label_events')
      .query(true)
      .reply(200, []);
    const progress = { total: () => undefined, advance: () => undefined, done: () => undefined };
    const loaded = await loadRequests(client, [{ state: 'closed' }], { config: exampleConfig(), today: '2026-12-01', progress });
    expect(loaded.map((l) => l.history.iid)).toEqual([1]);
  });
});
