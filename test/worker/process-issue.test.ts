import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import nock from 'nock';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AccountIndex } from '../../src/gitlab/account-index.js';
import { GitLabHttpError } from '../../src/gitlab/errors.js';
import { renderNote } from '../../src/render/notes.js';
import { processIssue, type ProcessDeps } from '../../src/worker/process-issue.js';
import { RoutingState } from '../../src/worker/routing-state.js';
import { exampleConfig } from '../helpers/config.js';
import { useNock } from '../helpers/nock.js';
import { nockedClient } from '../helpers/nocked-client.js';

const GITLAB = 'https://gitlab.example.com';
const API = `${GITLAB}/api/v4`;
const ISSUE = '/projects/4/issues/7';
const logger = pino({ level: 'silent' });
const description = readFileSync(
  resolve(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'),
  'utf8',
);
const issue = {
  id: 70,
  iid: 7,
  project_id: 4,
  title: 'Northwind',
  description,
  state: 'opened',
  author: { id: 18, username: 'alex.ae' },
  labels: [],
  assignees: [],
  web_url: `${GITLAB}/sales/requests/-/issues/7`,
  created_at: '2026-11-30T09:00:00.000Z',
  updated_at: '2026-11-30T09:00:00.000Z',
};
const gone = { message: '404 Not found' };
const project = { id: 4, path_with_namespace: 'sales/requests' };

function deps(): ProcessDeps {
  const client = nockedClient();
  return {
    client,
    config: exampleConfig(),
    routing: new RoutingState(client, exampleConfig, { maxAgeMs: 60_000, now: Date.now }),
    accounts: new AccountIndex(client, () => new Date('2026-12-01T10:00:00Z')),
    botUsername: () => 'scale-bot',
    render: renderNote,
    now: () => new Date('2026-12-01T10:00:00Z'),
    dryRun: false,
    crm: null,
  };
}

useNock();

describe('processIssue and a 404', () => {
  it('an issue deleted before the pass: the job ends as gone', async () => {
    // The account index is read beside the issue: the open issues, and those created within the history window.
    nock(API)
      .get(ISSUE)
      .times(2)
      .reply(404, gone)
      .get(`${ISSUE}/notes`)
      .query(true)
      .reply(200, [])
      .get('/projects/4')
      .reply(200, project);
    nock(API).get('/projects/4/issues').query(true).times(2).reply(200, []);
    await expect(processIssue(deps(), 7, logger)).resolves.toMatchObject({ outcome: 'gone' });
  });

  it('an issue deleted in the middle of the pass (its PUT answers 404): the job ends as gone', async () => {
    const puts: unknown[] = [];
    nock(API)
      .get(ISSUE)
      .reply(200, issue)
      .get(`${ISSUE}/notes`)
      .query(true)
      .reply(200, [])
      // The account index (the open issues, and those created within the history window), then
      // the routing state: the open issues and the newest requests of each of the two round-robin pools.
      .get('/projects/4/issues')
      .query(true)
      .times(5)
      .reply(200, [])
      .get('/users')
      .query(true)
      .reply(200, [{ id: 31, username: 'drew.cse', name: 'Drew' }])
      .put(ISSUE, (body) => puts.push(body) > 0)
      .reply(404, gone)
      .get(ISSUE)
      .reply(404, gone)
      .get('/projects/4')
      .reply(200, project);
    await expect(processIssue(deps(), 7, logger)).resolves.toMatchObject({ outcome: 'gone' });
    expect(puts).toHaveLength(1);
  });

  it('a project that answers 404 (access lost, project moved) is an error, not a deleted issue: the job is kept', async () => {
    const noProject = { message: '404 Project Not Found' };
    nock(API)
      .get(ISSUE)
      .times(2)
      .reply(404, noProject)
      .get(`${ISSUE}/notes`)
      .query(true)
      .reply(404, noProject)
      .get('/projects/4')
      .reply(404, noProject);
    nock(API).get('/projects/4/issues').query(true).reply(404, noProject);
    const err = await processIssue(deps(), 7, logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitLabHttpError);
    expect((err as GitLabHttpError).message).toContain('404 Project Not Found');
  });

  it('a 404 on the notes of an issue that still exists is an error, not a deletion', async () => {
    // Passed twice (the second time afresh), the issue re-checked after each.
    nock(API).get(ISSUE).times(4).reply(200, issue).get(`${ISSUE}/notes`).query(true).times(2).reply(404, gone);
    // The account index: built on the first pass (two listings), brought up to date on the second.
    nock(API).get('/projects/4/issues').query(true).times(3).reply(200, []);
    const err = await processIssue(deps(), 7, logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitLabHttpError);
    expect((err as GitLabHttpError).status).toBe(404);
  });
});
