import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { loadRequests } from '../../src/jobs/load-requests.js';
import { exampleConfig } from '../helpers/config.js';
import { useNock } from '../helpers/nock.js';
import { nockedClient } from '../helpers/nocked-client.js';

const API = 'https://gitlab.example.com/api/v4';
const description = readFileSync(
  resolve(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'),
  'utf8',
);
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
  it("reads requests, and skips issues moved to another project, tasks and the bot's own issues without asking for their history", async () => {
    const client = nockedClient();
    const issues = [
      request(1),
      request(2, { moved_to_id: 9001 }),
      request(3, { issue_type: 'task' }),
      request(4, { labels: ['scale-bot::operations'] }),
    ];
    nock(API)
      .get('/projects/4/issues')
      .query(true)
      .reply(200, issues, { 'X-Next-Page': '' })
      .get('/projects/4/issues/1/resource_label_events')
      .query(true)
      .reply(200, []);
    const progress = { total: () => undefined, advance: () => undefined, done: () => undefined };
    const loaded = await loadRequests(client, [{ state: 'closed' }], {
      config: exampleConfig(),
      today: '2026-12-01',
      progress,
    });
    expect(loaded.map((l) => l.history.iid)).toEqual([1]);
  });
});

describe('loadRequests: the bot’s record where the label history is not enough', () => {
  const client = () => nockedClient();
  const progress = { total: () => undefined, advance: () => undefined, done: () => undefined };
  const event = (id: number, label: string, user: string, at: string) => ({
    id,
    user: { username: user },
    created_at: at,
    label: { name: label },
    action: 'add',
  });

  it('reads the notes of a request whose history shows a refused move, and takes the timeline of the bot’s note', async () => {
    // The AE added accepted at 10:00, the bot put assigned back at 10:01; the CSE accepted on the 5th.
    const refused = [
      event(1, 'engagement::assigned', 'scale-bot', '2026-11-02T09:05:00Z'),
      event(2, 'engagement::accepted', 'alex.ae', '2026-11-02T10:00:00Z'),
      event(3, 'engagement::assigned', 'scale-bot', '2026-11-02T10:01:00Z'),
      event(4, 'engagement::accepted', 'drew.cse', '2026-11-05T14:00:00Z'),
    ];
    const timeline = [
      { state: 'assigned', at: '2026-11-02T09:05:00Z', by: 'scale-bot' },
      { state: 'accepted', at: '2026-11-05T14:00:00Z', by: 'drew.cse' },
    ];
    const marker = `<!-- scale-bot:request state=${Buffer.from(JSON.stringify({ timeline })).toString('base64url')} -->`;
    nock(API)
      .get('/projects/4/issues')
      .query(true)
      .reply(
        200,
        [request(1, { labels: ['engagement::accepted'] }), request(2, { labels: ['engagement::accepted'] })],
        { 'X-Next-Page': '' },
      )
      .get('/projects/4/issues/1/resource_label_events')
      .query(true)
      .reply(200, refused)
      .get('/projects/4/issues/1/notes')
      .query(true)
      .reply(
        200,
        [
          {
            id: 10,
            body: `${marker}\nTracker`,
            author: { username: 'scale-bot' },
            system: false,
            created_at: '2026-11-02T09:05:00Z',
          },
        ],
        { 'X-Next-Page': '' },
      )
      // Issue 2: an ordinary history (no bot add after a person's move): its notes are not read.
      .get('/projects/4/issues/2/resource_label_events')
      .query(true)
      .reply(200, [
        event(5, 'engagement::assigned', 'scale-bot', '2026-11-02T09:05:00Z'),
        event(6, 'engagement::accepted', 'drew.cse', '2026-11-03T09:00:00Z'),
      ]);
    const loaded = await loadRequests(client(), [{ state: 'closed' }], {
      config: exampleConfig(),
      today: '2026-12-01',
      progress,
    });
    const [one, two] = loaded.map((l) => l.history).sort((a, b) => a.iid - b.iid);
    expect(one!.reached).toEqual({ assigned: '2026-11-02T09:05:00Z', accepted: '2026-11-05T14:00:00Z' });
    expect(one!.timeline).toEqual(timeline);
    expect(two!.reached).toEqual({ assigned: '2026-11-02T09:05:00Z', accepted: '2026-11-03T09:00:00Z' });
    expect(two!.lastHumanActivity).toBeNull();
    expect(nock.isDone()).toBe(true);
  });

  it('reads an open engagement’s notes for its last human activity (not the bot’s)', async () => {
    nock(API)
      .get('/projects/4/issues')
      .query(true)
      .reply(200, [request(3, { state: 'opened', closed_at: null, labels: ['engagement::scheduled'] })], {
        'X-Next-Page': '',
      })
      .get('/projects/4/issues/3/resource_label_events')
      .query(true)
      .reply(200, [event(7, 'engagement::scheduled', 'drew.cse', '2026-11-04T09:00:00Z')])
      .get('/projects/4/issues/3/notes')
      .query(true)
      .reply(
        200,
        [
          {
            id: 11,
            body: 'changed the description',
            author: { username: 'alex.ae' },
            system: true,
            created_at: '2026-11-06T12:00:00Z',
          },
          {
            id: 12,
            body: '<!-- scale-bot:request -->\nTracker',
            author: { username: 'scale-bot' },
            system: false,
            created_at: '2026-11-09T12:00:00Z',
          },
        ],
        { 'X-Next-Page': '' },
      );
    const [h] = (
      await loadRequests(client(), [{ state: 'opened' }], { config: exampleConfig(), today: '2026-12-01', progress })
    ).map((l) => l.history);
    // The author's description edit (a system note of theirs) is the last human event; the bot's note of the 9th is not.
    expect(h!.lastHumanActivity).toBe('2026-11-06T12:00:00Z');
  });

  it('reads a needs-info request’s notes only when asked (the remind job), not for the report', async () => {
    const waiting = request(4, { state: 'opened', closed_at: null, labels: ['engagement::needs-info'] });
    const events = [event(8, 'engagement::needs-info', 'scale-bot', '2026-11-02T09:01:00Z')];
    nock(API)
      .get('/projects/4/issues')
      .query(true)
      .reply(200, [waiting], { 'X-Next-Page': '' })
      .get('/projects/4/issues/4/resource_label_events')
      .query(true)
      .reply(200, events);
    // No notes interceptor: a notes read would fail the load.
    const [report] = await loadRequests(client(), [{ state: 'opened' }], {
      config: exampleConfig(),
      today: '2026-12-01',
      progress,
    });
    expect(report!.history.lastHumanActivity).toBeNull();

    nock(API)
      .get('/projects/4/issues')
      .query(true)
      .reply(200, [waiting], { 'X-Next-Page': '' })
      .get('/projects/4/issues/4/resource_label_events')
      .query(true)
      .reply(200, events)
      .get('/projects/4/issues/4/notes')
      .query(true)
      .reply(200, [], { 'X-Next-Page': '' });
    const [remind] = await loadRequests(client(), [{ state: 'opened' }], {
      config: exampleConfig(),
      today: '2026-12-01',
      progress,
      activityStates: ['needs-info'],
    });
    // No note by a person: the author's last act is opening it.
    expect(remind!.history.lastHumanActivity).toBe('2026-11-02T09:00:00.000Z');
    expect(nock.isDone()).toBe(true);
  });
});
