import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab, type RestIssue, type RestNote } from '../../src/fake-gitlab/server.js';
import type { IssueHookPayload, NoteHookPayload } from '../../src/fake-gitlab/payloads.js';

/** The fake against the documented GitLab behaviour the bot relies on. */

interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A webhook receiver on loopback that records what it gets and answers 200. */
async function startReceiver() {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let fake: FakeGitLab;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

const LABELS = ['foo', 'bar baz', 'engagement::new', 'engagement::accepted', 'segment::mm', 'region::amr'];

beforeEach(async () => {
  receiver = await startReceiver();
  fake = await startFakeGitLab({ webhook: { url: receiver.url, token: 'hook-secret' }, labels: LABELS });
});

afterEach(async () => {
  await fake.stop();
  await receiver.close();
});

async function api(
  path: string,
  init: { method?: string; token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? fake.botToken : init.token;
  if (token !== null) headers['PRIVATE-TOKEN'] = token;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${fake.apiUrl}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: (text === '' ? null : JSON.parse(text)) as unknown,
  };
}

const asIssue = (v: unknown) => v as RestIssue;
const asIssues = (v: unknown) => v as RestIssue[];
const asNote = (v: unknown) => v as RestNote;

describe('authentication', () => {
  it('answers 401 without a valid token', async () => {
    expect(await api('/user', { token: null })).toMatchObject({ status: 401, json: { message: '401 Unauthorized' } });
    expect((await api('/projects/1', { token: 'nope' })).status).toBe(401);
  });

  it('accepts PRIVATE-TOKEN and Authorization: Bearer', async () => {
    expect(await api('/user')).toMatchObject({ status: 200, json: { username: 'scale-bot', bot: true } });
    const bearer = await api('/user', { token: null, headers: { Authorization: 'Bearer root-token' } });
    expect(bearer).toMatchObject({ status: 200, json: { id: 1, username: 'root' } });
  });

  it('serves /version and /users?username= (case-insensitive)', async () => {
    expect((await api('/version')).json).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+/) });
    const users = await api('/users?username=Casey.CSE');
    expect(users.json).toEqual([
      expect.objectContaining({ username: 'casey.cse', name: 'Casey Kim', id: expect.any(Number) }),
    ]);
    expect((await api('/users?username=nobody')).json).toEqual([]);
  });

  it('finds the project by id or URL-encoded path, and answers 404 otherwise', async () => {
    expect((await api('/projects/1')).json).toMatchObject({
      id: 1,
      path_with_namespace: 'sales/scale-engagement-requests',
    });
    expect((await api(`/projects/${encodeURIComponent('sales/scale-engagement-requests')}`)).status).toBe(200);
    expect(await api('/projects/2')).toMatchObject({ status: 404, json: { message: '404 Project Not Found' } });
    expect(await api('/projects/1/issues/99')).toMatchObject({ status: 404, json: { message: '404 Not found' } });
  });
});

describe('pagination', () => {
  const linkRels = (link: string | null) =>
    Object.fromEntries([...(link ?? '').matchAll(/<([^>]+)>; rel="([^"]+)"/g)].map((m) => [m[2], m[1]]));

  beforeEach(() => {
    fake.seedIssues(45);
  });

  it('sets the documented headers on the first, a middle and the last page', async () => {
    const first = await api('/projects/1/issues?per_page=20');
    expect(asIssues(first.json)).toHaveLength(20);
    expect(
      Object.fromEntries(
        ['x-total', 'x-total-pages', 'x-page', 'x-per-page', 'x-next-page', 'x-prev-page'].map((h) => [
          h,
          first.headers.get(h),
        ]),
      ),
    ).toEqual({
      'x-total': '45',
      'x-total-pages': '3',
      'x-page': '1',
      'x-per-page': '20',
      'x-next-page': '2',
      'x-prev-page': '',
    });
    expect(Object.keys(linkRels(first.headers.get('link'))).sort()).toEqual(['first', 'last', 'next']);

    const middle = await api('/projects/1/issues?per_page=20&page=2');
    expect([middle.headers.get('x-prev-page'), middle.headers.get('x-next-page')]).toEqual(['1', '3']);
    expect(Object.keys(linkRels(middle.headers.get('link'))).sort()).toEqual(['first', 'last', 'next', 'prev']);

    const last = await api('/projects/1/issues?per_page=20&page=3');
    expect(asIssues(last.json)).toHaveLength(5);
    expect([last.headers.get('x-prev-page'), last.headers.get('x-next-page')]).toEqual(['2', '']);
    expect(linkRels(last.headers.get('link')).next).toBeUndefined();
  });

  it('builds Link URLs that keep the other parameters and walk every issue once', async () => {
    const seen: number[] = [];
    let url: string | undefined = `${fake.apiUrl}/projects/1/issues?state=opened&per_page=20`;
    while (url) {
      const response = await fetch(url, { headers: { 'PRIVATE-TOKEN': fake.botToken } });
      seen.push(...asIssues(await response.json()).map((i) => i.iid));
      url = linkRels(response.headers.get('link')).next;
      if (url) expect(new URL(url).searchParams.get('state')).toBe('opened');
    }
    expect(seen).toHaveLength(45);
    expect(new Set(seen).size).toBe(45);
    // Default order: newest first.
    expect(seen[0]).toBe(45);
  });

  it('caps per_page at 100 and defaults to 20', async () => {
    expect((await api('/projects/1/issues?per_page=500')).headers.get('x-per-page')).toBe('100');
    expect((await api('/projects/1/issues')).headers.get('x-per-page')).toBe('20');
  });

  it('omits totals and rel="last" past 10,000 rows, as GitLab does', async () => {
    const big = await startFakeGitLab();
    try {
      big.seedIssues(10_050);
      const token = { 'PRIVATE-TOKEN': big.botToken };
      const first = await fetch(`${big.apiUrl}/projects/1/issues?per_page=100`, { headers: token });
      expect(first.headers.get('x-total')).toBeNull();
      expect(first.headers.get('x-total-pages')).toBeNull();
      expect(first.headers.get('x-next-page')).toBe('2');
      expect(Object.keys(linkRels(first.headers.get('link'))).sort()).toEqual(['first', 'next']);
      const last = await fetch(`${big.apiUrl}/projects/1/issues?per_page=100&page=101`, { headers: token });
      expect(await last.json()).toHaveLength(50);
      expect(last.headers.get('x-next-page')).toBe('');
      expect(last.headers.get('x-prev-page')).toBe('100');
    } finally {
      await big.stop();
    }
  });
});

describe('issue queries', () => {
  it('filters by state, labels (all must match), search, assignee and dates', async () => {
    const alex = fake.as('alex.ae');
    const a = await alex.createIssue({
      title: 'Acme Corp',
      description: 'Scale request for Acme',
      labels: ['foo', 'segment::mm'],
    });
    const b = await alex.createIssue({ title: 'Globex', description: 'Another customer', labels: ['foo'] });
    await fake.as('harper.mgr').editIssue(b.iid, { assignees: ['casey.cse'] });
    await alex.closeIssue(a.iid);

    const iids = async (query: string) => asIssues((await api(`/projects/1/issues?${query}`)).json).map((i) => i.iid);
    expect(await iids('labels=foo,segment::mm')).toEqual([a.iid]);
    expect(await iids('labels=foo')).toEqual([b.iid, a.iid]);
    expect(await iids('state=opened')).toEqual([b.iid]);
    expect(await iids('search=acme&in=title,description')).toEqual([a.iid]);
    expect(await iids('search=customer&in=title')).toEqual([]);
    expect(await iids('assignee_username=casey.cse')).toEqual([b.iid]);
    expect(await iids(`created_after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect(await iids('order_by=created_at&sort=asc')).toEqual([a.iid, b.iid]);
    expect((await api('/projects/1/issues?state=nope')).status).toBe(400);
  });
});

describe('writes', () => {
  it('replaces other labels of a scope when a scoped label is added, and records label events', async () => {
    const issue = await fake
      .as('alex.ae')
      .createIssue({ title: 'Acme', description: 'x', labels: ['engagement::new', 'foo'] });
    const updated = await api(`/projects/1/issues/${issue.iid}`, {
      method: 'PUT',
      body: { add_labels: 'engagement::accepted' },
    });
    expect(asIssue(updated.json).labels).toEqual(['engagement::accepted', 'foo']);

    const events = await api(`/projects/1/issues/${issue.iid}/resource_label_events`);
    expect(events.headers.get('x-total')).toBe('4');
    const summary = (
      events.json as Array<{
        action: string;
        label: { name: string };
        user: { username: string };
        resource_type: string;
        resource_id: number;
      }>
    ).map((e) => `${e.user.username} ${e.action} ${e.label.name}`);
    // Creation adds two labels; the edit adds the new scoped label, then removes the old one.
    expect(summary).toEqual([
      'alex.ae add engagement::new',
      'alex.ae add foo',
      'scale-bot add engagement::accepted',
      'scale-bot remove engagement::new',
    ]);
    expect(fake.labelEvents(issue.iid)[0]).toMatchObject({
      resource_type: 'Issue',
      resource_id: issue.id,
      label: { id: expect.any(Number), color: expect.any(String) },
    });

    const replaced = await api(`/projects/1/issues/${issue.iid}`, {
      method: 'PUT',
      body: { labels: 'segment::mm,region::amr', assignee_ids: [] },
    });
    expect(asIssue(replaced.json).labels).toEqual(['region::amr', 'segment::mm']);
  });

  it('on the Free tier, scoped labels are plain labels: both of one scope stay', async () => {
    const free = await startFakeGitLab({ labels: LABELS, tier: 'free' });
    try {
      const issue = await free
        .as('alex.ae')
        .createIssue({ title: 'Acme', description: 'x', labels: ['engagement::new'] });
      const res = await fetch(`${free.apiUrl}/projects/1/issues/${issue.iid}`, {
        method: 'PUT',
        headers: { 'PRIVATE-TOKEN': free.botToken, 'Content-Type': 'application/json' },
        body: JSON.stringify({ add_labels: 'engagement::accepted' }),
      });
      expect(((await res.json()) as RestIssue).labels).toEqual(['engagement::accepted', 'engagement::new']);
    } finally {
      await free.stop();
    }
  });

  it("does not run /close (nor /reopen, /unlabel) in a new issue's description: they stay as text", async () => {
    const description = ['Please help', '/close', '/unlabel ~foo', '/label ~foo'].join('\n');
    const created = await api('/projects/1/issues', {
      method: 'POST',
      token: 'root-token',
      body: { title: 'Acme', description },
    });
    const issue = asIssue(created.json);
    expect(issue.state).toBe('opened');
    expect(issue.labels).toEqual(['foo']);
    expect(issue.description).toBe(['Please help', '/close', '/unlabel ~foo'].join('\n'));
    // On an existing issue, /close runs.
    const closed = await fake.as('root').comment(issue.iid, '/close');
    expect(closed).toBeNull();
    expect(fake.issue(issue.iid).state).toBe('closed');
  });

  it('runs /label and /assign quick actions on creation and removes them from the description', async () => {
    const description = [
      'Please help',
      '/label ~foo ~"bar baz" ~unknown',
      '/assign @casey.cse',
      '',
      '```',
      '/label ~segment::mm',
      '```',
    ].join('\n');
    const created = await api('/projects/1/issues', {
      method: 'POST',
      token: 'root-token',
      body: { title: 'Acme', description },
    });
    expect(created.status).toBe(201);
    const issue = asIssue(created.json);
    expect(issue.labels).toEqual(['bar baz', 'foo']);
    expect(issue.assignees.map((a) => a.username)).toEqual(['casey.cse']);
    expect(issue.description).toBe(['Please help', '```', '/label ~segment::mm', '```'].join('\n'));
  });

  it("applies the generated templates' trailing /label line", async () => {
    const issue = await fake.as('alex.ae').createIssue({
      title: 'Acme',
      description: '### Customer name\n\nAcme\n\n/label ~"segment::mm" ~"region::amr"\n',
    });
    expect(issue.labels).toEqual(['region::amr', 'segment::mm']);
    expect(issue.description).toBe('### Customer name\n\nAcme');
  });

  it('supports notes CRUD with sort, 404 and edits by the author', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const first = await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: 'First' } });
    expect(first).toMatchObject({
      status: 201,
      json: {
        body: 'First',
        author: { username: 'scale-bot' },
        system: false,
        noteable_iid: issue.iid,
        internal: false,
      },
    });
    await fake.as('alex.ae').comment(issue.iid, 'Second');
    const note = asNote(first.json);

    const desc = (await api(`/projects/1/issues/${issue.iid}/notes`)).json as RestNote[];
    expect(desc.map((n) => n.body)).toEqual(['Second', 'First']);
    const asc = (await api(`/projects/1/issues/${issue.iid}/notes?sort=asc&order_by=created_at`)).json as RestNote[];
    expect(asc.map((n) => n.body)).toEqual(['First', 'Second']);

    const edited = await api(`/projects/1/issues/${issue.iid}/notes/${note.id}`, {
      method: 'PUT',
      body: { body: 'First, edited' },
    });
    expect(asNote(edited.json).body).toBe('First, edited');
    expect((await api(`/projects/1/issues/${issue.iid}/notes/${note.id}`)).json).toMatchObject({
      id: note.id,
      body: 'First, edited',
    });
    expect((await api(`/projects/1/issues/${issue.iid}/notes/999999`)).status).toBe(404);
    expect(fake.botNotes(issue.iid).map((n) => n.body)).toEqual(['First, edited']);
  });

  it("lets only a note's author or a Maintainer/Owner edit or delete it (admin_note), answering 403 Forbidden otherwise", async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const bot = asNote(
      (await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: '- [ ] CTA created' } }))
        .json,
    );
    fake.addToken('drew-token', 'drew.cse'); // a Reporter
    fake.addToken('casey-token', 'casey.cse'); // a Developer
    fake.addToken('harper-token', 'harper.mgr'); // a Maintainer
    const path = `/projects/1/issues/${issue.iid}/notes/${bot.id}`;
    for (const token of ['drew-token', 'casey-token']) {
      expect(await api(path, { method: 'PUT', token, body: { body: '- [x] CTA created' } })).toMatchObject({
        status: 403,
        json: { message: '403 Forbidden' },
      });
      expect((await api(path, { method: 'DELETE', token })).status).toBe(403);
    }
    expect(fake.botNotes(issue.iid).map((n) => n.body)).toEqual(['- [ ] CTA created']);
    expect(
      (await api(path, { method: 'PUT', token: 'harper-token', body: { body: '- [x] CTA created' } })).status,
    ).toBe(200);
    expect(
      (await api(path, { method: 'PUT', token: 'root-token', body: { body: '- [x] CTA created (root)' } })).status,
    ).toBe(200);
    // A Reporter edits and deletes their own comment.
    const own = await fake.as('drew.cse').comment(issue.iid, 'Booked');
    expect(
      (
        await api(`/projects/1/issues/${issue.iid}/notes/${own!.id}`, {
          method: 'PUT',
          token: 'drew-token',
          body: { body: 'Booked!' },
        })
      ).status,
    ).toBe(200);
    expect(
      (await api(`/projects/1/issues/${issue.iid}/notes/${own!.id}`, { method: 'DELETE', token: 'drew-token' })).status,
    ).toBe(204);
    await expect(fake.as('drew.cse').editComment(issue.iid, bot.id, 'tick')).rejects.toThrow(/403/);
  });

  it("an edited note's hook names the note's author as user and the editor in updated_by_id (Notes::UpdateService)", async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const bot = asNote(
      (await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: '- [ ] Call held' } })).json,
    );
    await fake.as('harper.mgr').editComment(issue.iid, bot.id, '- [x] Call held');
    await api(`/projects/1/issues/${issue.iid}/notes/${bot.id}`, {
      method: 'PUT',
      // A real change: GitLab right-trims the text (the quick-action extractor does), so a trailing newline is none.
      body: { body: '- [x] Call held\n- [ ] CTA created\n' },
    });
    const internal = await fake.as('drew.cse').comment(issue.iid, 'Internal', { internal: true });
    await fake.as('drew.cse').editComment(issue.iid, internal!.id, 'Internal, edited');
    await fake.settled();
    const botId = fake.addUser(fake.botUsername).id;
    const harperId = fake.addUser('harper.mgr').id;
    const drewId = fake.addUser('drew.cse').id;
    const notes = fake.deliveries.slice(1).map((d) => [d.event, d.payload as NoteHookPayload] as const);
    expect(
      notes.map(([event, p]) => [
        event,
        p.object_attributes.action,
        p.user.username,
        p.object_attributes.author_id,
        p.object_attributes.updated_by_id,
      ]),
    ).toEqual([
      ['Note Hook', 'create', 'scale-bot', botId, null],
      ['Note Hook', 'update', 'scale-bot', botId, harperId],
      ['Note Hook', 'update', 'scale-bot', botId, botId],
      // Internal notes go to confidential note hooks (`note.confidential?(include_noteable: true)`).
      ['Confidential Note Hook', 'create', 'drew.cse', drewId, null],
      ['Confidential Note Hook', 'update', 'drew.cse', drewId, drewId],
    ]);
  });

  it('deletes an issue with its notes and events: every issue path then answers 404, and no hook fires', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x', labels: ['foo'] });
    await fake.as('alex.ae').comment(issue.iid, 'Hello');
    await fake.settled();
    const hooks = receiver.received.length;
    expect((await api(`/projects/1/issues/${issue.iid}`, { method: 'DELETE' })).status).toBe(204);
    for (const path of ['', '/notes', '/resource_label_events'])
      expect((await api(`/projects/1/issues/${issue.iid}${path}`)).status).toBe(404);
    expect(
      (await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: 'late' } })).status,
    ).toBe(404);
    expect((await api(`/projects/1/issues/${issue.iid}`, { method: 'DELETE' })).status).toBe(404);
    await fake.settled();
    expect(receiver.received).toHaveLength(hooks);
  });

  it("deletes a comment (an Owner may delete anyone's): gone from the list, 404 after, and no hook", async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const note = await fake.as('alex.ae').comment(issue.iid, 'Hello');
    await fake.settled();
    const hooks = receiver.received.length;
    expect(
      (await api(`/projects/1/issues/${issue.iid}/notes/${note!.id}`, { method: 'DELETE', token: 'root-token' }))
        .status,
    ).toBe(204);
    expect((await api(`/projects/1/issues/${issue.iid}/notes`)).json).toEqual([]);
    expect(
      (await api(`/projects/1/issues/${issue.iid}/notes/${note!.id}`, { method: 'PUT', body: { body: 'late' } }))
        .status,
    ).toBe(404);
    await fake.settled();
    expect(receiver.received).toHaveLength(hooks);
  });

  it('runs a racing change just before the request it is set on', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    fake.failNext({ method: 'PUT', path: /\/issues\/\d+$/ }, { before: () => fake.as('root').deleteIssue(issue.iid) });
    expect((await api(`/projects/1/issues/${issue.iid}`, { method: 'PUT', body: { add_labels: 'foo' } })).status).toBe(
      404,
    );
  });

  it('saves no note for a comment of quick actions only, and answers 202', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const response = await api(`/projects/1/issues/${issue.iid}/notes`, {
      method: 'POST',
      token: 'root-token',
      body: { body: '/label ~foo' },
    });
    expect(response.status).toBe(202);
    expect(fake.notes(issue.iid)).toEqual([]);
    expect(fake.issue(issue.iid).labels).toEqual(['foo']);
  });

  it('runs quick actions in an edited note, as Notes::UpdateService does, and keeps the rest of the text', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const note = await fake.as('harper.mgr').comment(issue.iid, 'Looks good');
    await fake.settled();
    const before = receiver.received.length;
    const response = await api(`/projects/1/issues/${issue.iid}/notes/${note!.id}`, {
      method: 'PUT',
      token: 'root-token',
      body: { body: 'Looks good\n/label ~foo\n/close' },
    });
    expect(response.status).toBe(200);
    expect(asNote(response.json).body).toBe('Looks good');
    expect(fake.issue(issue.iid)).toMatchObject({ state: 'closed', labels: ['foo'] });
    await fake.settled();
    // The text did not change, so no Note Hook; the close and the label each report an Issue Hook, by the editor.
    const hooks = receiver.received.slice(before).map((r) => r.body as IssueHookPayload);
    expect(hooks.map((h) => [h.object_kind, h.object_attributes.action, h.user.username])).toEqual([
      ['issue', 'close', 'root'],
      ['issue', 'update', 'root'],
    ]);
  });

  it('deletes an edited note left with quick actions only, and answers 202 (NoteCommands)', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const note = await fake.as('alex.ae').comment(issue.iid, 'Hello');
    const response = await api(`/projects/1/issues/${issue.iid}/notes/${note!.id}`, {
      method: 'PUT',
      token: 'root-token',
      body: { body: '/label ~foo' },
    });
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ commands_changes: {}, summary: ['/label ~foo'] });
    expect(fake.notes(issue.iid).filter((n) => !n.system)).toEqual([]);
    expect(fake.issue(issue.iid).labels).toEqual(['foo']);
  });

  it('refuses a note over 1,000,000 characters on create and edit with 400, as GitLab words it', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const message = '400 Bad request - Note {:note=>["is too long (maximum is 1000000 characters)"]}';
    const fits = '😀'.repeat(1_000_000); // 2,000,000 UTF-16 units, 1,000,000 characters: GitLab counts characters.
    const created = await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: fits } });
    expect(created.status).toBe(201);
    const tooLong = `${fits}x`;
    expect(await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: tooLong } })).toEqual(
      expect.objectContaining({ status: 400, json: { message } }),
    );
    const noteId = asNote(created.json).id;
    expect(
      await api(`/projects/1/issues/${issue.iid}/notes/${noteId}`, { method: 'PUT', body: { body: tooLong } }),
    ).toEqual(expect.objectContaining({ status: 400, json: { message } }));
    expect(fake.notes(issue.iid).find((n) => n.id === noteId)!.body).toBe(fits);
  });

  it('refuses an issue description over 1 MiB of UTF-8 on create and update with 400 (BytesizeValidator)', async () => {
    const within = 'é'.repeat(524_288); // 524,288 characters, 1,048,576 bytes
    const created = await api('/projects/1/issues', { method: 'POST', body: { title: 'Report', description: within } });
    expect(created.status).toBe(201);
    const over = 'é'.repeat(600_000); // 600,000 characters: under 1,048,576, but 1,200,000 bytes
    const refusal = { message: { description: ['is too long (1.14 MB). The maximum size is 1 MB.'] } };
    expect(await api('/projects/1/issues', { method: 'POST', body: { title: 'Report', description: over } })).toEqual(
      expect.objectContaining({ status: 400, json: refusal }),
    );
    const iid = asIssue(created.json).iid;
    expect(await api(`/projects/1/issues/${iid}`, { method: 'PUT', body: { description: over } })).toEqual(
      expect.objectContaining({ status: 400, json: refusal }),
    );
    expect(fake.issue(iid).description).toBe(within);
  });

  it('assigns only members (filter_assignees_using_checks): when none of the ids can be assigned, the assignees stay', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    const casey = fake.addUser('casey.cse').id;
    const put = (body: object) => api(`/projects/1/issues/${issue.iid}`, { method: 'PUT', body });
    const assignees = () => fake.issue(issue.iid).assignees.map((a) => a.username);
    expect((await put({ assignee_ids: [casey] })).status).toBe(200);
    const outsider = fake.addOutsider('olive.outsider').id;
    fake.removeMember('drew.cse');
    for (const ids of [[999_999], [outsider], [fake.addUser('drew.cse').id]]) {
      const answer = await put({ assignee_ids: ids });
      expect(answer.status).toBe(200);
      expect(asIssue(answer.json).assignees.map((a) => a.username)).toEqual(['casey.cse']);
    }
    await put({ assignee_ids: [outsider, casey] });
    expect(assignees()).toEqual(['casey.cse']);
    await put({ assignee_ids: [0] });
    expect(assignees()).toEqual([]);
  });

  it("a comment moves the issue's updated_at only when it is over a minute old (ThrottledTouch)", async () => {
    let now = new Date('2026-12-01T10:00:00Z');
    const clocked = await startFakeGitLab({ now: () => now });
    try {
      const issue = await clocked.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
      now = new Date('2026-12-01T10:00:30Z');
      await clocked.as('alex.ae').comment(issue.iid, 'soon after');
      expect(clocked.issue(issue.iid).updated_at).toBe('2026-12-01T10:00:00.000Z');
      now = new Date('2026-12-01T10:01:01Z');
      await clocked.as('alex.ae').comment(issue.iid, 'later');
      expect(clocked.issue(issue.iid).updated_at).toBe('2026-12-01T10:01:01.000Z');
    } finally {
      await clocked.stop();
    }
  });

  it('writes system notes for assignment changes, which the bot must skip', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    await api(`/projects/1/issues/${issue.iid}`, {
      method: 'PUT',
      body: { assignee_ids: [fake.addUser('casey.cse').id] },
    });
    expect(fake.notes(issue.iid)).toEqual([expect.objectContaining({ system: true, body: 'assigned to @casey.cse' })]);
    expect(fake.botNotes(issue.iid)).toEqual([]);
  });
});

describe('webhooks', () => {
  const payloads = () => receiver.received.map((r) => r.body as IssueHookPayload | NoteHookPayload);

  it('delivers an Issue Hook with the documented headers when someone opens an issue', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'Hello', labels: ['foo'] });
    expect(fake.deliveries).toHaveLength(1);
    const [delivery] = fake.deliveries;
    expect(delivery).toMatchObject({ event: 'Issue Hook', status: 200 });
    const [got] = receiver.received;
    expect(got?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-gitlab-event': 'Issue Hook',
      'x-gitlab-token': 'hook-secret',
      'x-gitlab-instance': fake.url,
      'idempotency-key': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'x-gitlab-event-uuid': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'x-gitlab-webhook-uuid': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'user-agent': expect.stringMatching(/^GitLab\//),
    });
    expect(got?.body).toMatchObject({
      object_kind: 'issue',
      event_type: 'issue',
      user: { username: 'alex.ae' },
      project: { id: 1, path_with_namespace: 'sales/scale-engagement-requests' },
      object_attributes: {
        iid: issue.iid,
        id: issue.id,
        action: 'open',
        state: 'opened',
        url: issue.web_url,
        labels: [{ title: 'foo' }],
      },
      labels: [{ title: 'foo' }],
      changes: { title: { previous: null, current: 'Acme' } },
    });
  });

  it('reports edits with {previous, current} changes, closes and reopens', async () => {
    const alex = fake.as('alex.ae');
    const issue = await alex.createIssue({ title: 'Acme', description: 'v1', labels: ['engagement::new'] });
    await alex.editIssue(issue.iid, { description: 'v2', addLabels: ['engagement::accepted'] });
    await alex.closeIssue(issue.iid);
    await alex.reopenIssue(issue.iid);
    const [, update, close, reopen] = payloads() as IssueHookPayload[];
    expect(update?.object_attributes.action).toBe('update');
    expect(update?.changes.description).toEqual({ previous: 'v1', current: 'v2' });
    expect(update?.changes.labels?.previous.map((l) => l.title)).toEqual(['engagement::new']);
    expect(update?.changes.labels?.current.map((l) => l.title)).toEqual(['engagement::accepted']);
    expect(close).toMatchObject({
      object_attributes: { action: 'close', state: 'closed' },
      changes: { state_id: { previous: 1, current: 2 } },
    });
    expect(reopen).toMatchObject({ object_attributes: { action: 'reopen', state: 'opened' } });
  });

  it('delivers Note Hooks on comments and edits, and Confidential hooks for confidential issues', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Secret', description: 'x', confidential: true });
    const note = await fake.as('casey.cse').comment(issue.iid, 'On it');
    await fake.as('casey.cse').editComment(issue.iid, note!.id, 'On it, call booked');
    expect(fake.deliveries.map((d) => d.event)).toEqual([
      'Confidential Issue Hook',
      'Confidential Note Hook',
      'Confidential Note Hook',
    ]);
    const [, created, edited] = payloads() as [unknown, NoteHookPayload, NoteHookPayload];
    expect(created).toMatchObject({
      object_kind: 'note',
      event_type: 'confidential_note',
      object_attributes: { id: note!.id, noteable_type: 'Issue', action: 'create' },
      issue: { iid: issue.iid },
    });
    expect(edited.object_attributes).toMatchObject({ action: 'update', note: 'On it, call booked' });
  });

  it("fires hooks for the bot's own API writes with user = the bot, unless emitBotEvents is off", async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: 'Thanks' } });
    await api(`/projects/1/issues/${issue.iid}`, { method: 'PUT', body: { add_labels: 'foo' } });
    await fake.settled();
    expect(
      payloads()
        .slice(1)
        .map((p) => [p.object_kind, p.user.username]),
    ).toEqual([
      ['note', 'scale-bot'],
      ['issue', 'scale-bot'],
    ]);

    const quiet = await startFakeGitLab({ webhook: { url: receiver.url, token: 't' }, emitBotEvents: false });
    try {
      const other = await quiet.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
      await fetch(`${quiet.apiUrl}/projects/1/issues/${other.iid}/notes`, {
        method: 'POST',
        headers: { 'PRIVATE-TOKEN': quiet.botToken, 'Content-Type': 'application/json' },
        body: JSON.stringify({ body: 'Thanks' }),
      });
      await quiet.settled();
      expect(quiet.deliveries.map((d) => d.event)).toEqual(['Issue Hook']);
    } finally {
      await quiet.stop();
    }
  });

  it('resends with the same Idempotency-Key and a new webhook UUID; sendRaw posts anything', async () => {
    await fake.as('alex.ae').createIssue({ title: 'A', description: 'x' });
    await fake.as('alex.ae').createIssue({ title: 'B', description: 'x' });
    const [a, b] = receiver.received;
    expect(a?.headers['idempotency-key']).not.toBe(b?.headers['idempotency-key']);
    expect(a?.headers['x-gitlab-event-uuid']).not.toBe(b?.headers['x-gitlab-event-uuid']);

    const again = await fake.resend(0);
    expect(again.status).toBe(200);
    const resent = receiver.received[2];
    expect(resent?.headers['idempotency-key']).toBe(a?.headers['idempotency-key']);
    expect(resent?.headers['x-gitlab-webhook-uuid']).not.toBe(a?.headers['x-gitlab-webhook-uuid']);
    expect(resent?.body).toEqual(a?.body);

    await fake.sendRaw(
      { 'Content-Type': 'application/json', 'X-Gitlab-Event': 'Issue Hook', 'X-Gitlab-Token': 'wrong' },
      { object_kind: 'issue' },
    );
    expect(receiver.received[3]).toMatchObject({
      headers: { 'x-gitlab-token': 'wrong' },
      body: { object_kind: 'issue' },
    });
    expect(fake.deliveries).toHaveLength(4);
  });
});

describe('faults and latency', () => {
  it('answers 429 with Retry-After, then recovers', async () => {
    fake.failNext({ method: 'GET', path: /\/issues$/ }, { status: 429, retryAfter: 7 });
    const limited = await fetch(`${fake.apiUrl}/projects/1/issues`, { headers: { 'PRIVATE-TOKEN': fake.botToken } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await api('/projects/1/issues')).status).toBe(200);
  });

  it("limits searches to search_rate_limit per user and minute: 429 with Retry-After 60 and GitLab's message", async () => {
    const limited = await startFakeGitLab({ searchRateLimit: 3 });
    try {
      const search = (token: string) =>
        fetch(`${limited.apiUrl}/projects/1/issues?search=acme`, { headers: { 'PRIVATE-TOKEN': token } });
      // Windows are aligned to the minute: keep the test inside one.
      if (new Date().getSeconds() > 55) await new Promise((r) => setTimeout(r, 5_000));
      for (let i = 0; i < 3; i++) expect((await search(limited.botToken)).status).toBe(200);
      const refused = await search(limited.botToken);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(await refused.json()).toEqual({
        error: 'This endpoint has been requested too many times. Try again later.',
      });
      // Another user has a counter of their own; a listing without search is not counted.
      expect((await search('root-token')).status).toBe(200);
      expect(
        (await fetch(`${limited.apiUrl}/projects/1/issues`, { headers: { 'PRIVATE-TOKEN': limited.botToken } })).status,
      ).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it('loses the answer of a request it serves: the write lands, the client gets a 502', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    fake.failNext({ method: 'POST', path: /\/notes$/ }, { lost: true });
    const posted = await fetch(`${fake.apiUrl}/projects/1/issues/${issue.iid}/notes`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': fake.botToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ body: 'Hello' }),
    });
    expect(posted.status).toBe(502);
    expect(fake.botNotes(issue.iid).map((n) => n.body)).toEqual(['Hello']);
  });

  it('answers 500 the given number of times', async () => {
    fake.failNext({ path: /\/user$/ }, { status: 500 }, 2);
    expect(await api('/user')).toMatchObject({ status: 500, json: { message: '500 Internal Server Error' } });
    expect((await api('/user')).status).toBe(500);
    expect((await api('/user')).status).toBe(200);
    expect(fake.calls.map((c) => c.status)).toEqual([500, 500, 200]);
  });

  it('hangs until the client gives up, and stop() drops hanging requests', async () => {
    fake.failNext({ path: /\/user$/ }, { hang: true }, 2);
    await expect(
      fetch(`${fake.apiUrl}/user`, { headers: { 'PRIVATE-TOKEN': fake.botToken }, signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    const pending = fetch(`${fake.apiUrl}/user`, { headers: { 'PRIVATE-TOKEN': fake.botToken } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.calls.at(-1)?.status).toBeNull();
    await fake.stop();
    await expect(pending).rejects.toThrow();
  });

  it('adds latency', async () => {
    fake.setLatency(60);
    const started = performance.now();
    await api('/user');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('call recording', () => {
  it('records every request with its actor, and filters writes', async () => {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    await api(`/projects/1/issues/${issue.iid}`);
    await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body: 'Hi' } });
    await api('/user', { token: 'root-token' });
    expect(fake.callsBy('scale-bot').map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `GET /api/v4/projects/1/issues/${issue.iid} 200`,
      `POST /api/v4/projects/1/issues/${issue.iid}/notes 201`,
    ]);
    expect(fake.writes()).toEqual([
      expect.objectContaining({ method: 'POST', body: { body: 'Hi' }, actor: 'scale-bot' }),
    ]);
    fake.resetCalls();
    expect(fake.calls).toEqual([]);
  });

  it("records which personal access token made each call, as GitLab's API log has token_id", async () => {
    const second = fake.addToken('scale-bot-second-token', 'scale-bot');
    expect(fake.addToken('scale-bot-second-token', 'scale-bot')).toBe(second);
    await api('/user');
    await api('/user', { token: 'scale-bot-second-token' });
    await api('/user', { token: 'root-token' });
    await api('/user', { token: 'no-such-token' });
    const calls = fake.calls.map((c) => [c.actor, c.tokenId]);
    expect(calls[0]).toEqual(['scale-bot', expect.any(Number)]);
    expect(calls.slice(1)).toEqual([
      ['scale-bot', second],
      ['root', expect.any(Number)],
      [null, null],
    ]);
    expect(new Set([calls[0]![1], second, calls[2]![1]]).size).toBe(3);
  });
});

describe('bot text safety', () => {
  async function botNote(body: string) {
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    await api(`/projects/1/issues/${issue.iid}/notes`, { method: 'POST', body: { body } });
    return issue.iid;
  }

  it('records a quick action line, and GitLab runs it', async () => {
    const iid = await botNote('Customer: Acme\n/close');
    expect(fake.violations).toEqual([expect.stringContaining('quick action line "/close"')]);
    expect(fake.issue(iid).state).toBe('closed');
    expect(() => fake.assertNoViolations()).toThrow(/\/close/);
  });

  it('records @all, unknown users and references, even entity-encoded or escaped', async () => {
    await botNote('Hi @all, see #12 and ~"bar baz" for @nobody &#64;here \\@all');
    expect(fake.violations.map((v) => v.replace(/^note \d+ on #\d+: /, ''))).toEqual([
      'mention @all',
      'mention @nobody',
      'mention @here',
      'mention @all',
      'reference #12',
      'reference ~"bar baz"',
    ]);
  });

  it('does not record neutralized text, code, or mentions of known users', async () => {
    await botNote(
      [
        '\\/close',
        ' Customer: @\u200Ball',
        '`@all #12`',
        '```',
        '/close',
        '@all',
        '```',
        '<!-- scale-bot:tracker #3 -->',
        'Assigned to @casey.cse.',
        'ARR 80%, jane@acme.com',
      ].join('\n'),
    );
    expect(fake.violations).toEqual([]);
    expect(fake.mentions).toEqual([{ iid: expect.any(Number), noteId: expect.any(Number), username: 'casey.cse' }]);
    expect(() => fake.assertNoViolations()).not.toThrow();
  });

  it('checks descriptions the bot sets, and not what people write', async () => {
    await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'cc @all' });
    const issue = await fake.as('alex.ae').createIssue({ title: 'Acme', description: 'x' });
    await api(`/projects/1/issues/${issue.iid}`, { method: 'PUT', body: { description: 'Report for @all' } });
    expect(fake.violations).toEqual([`description of #${issue.iid}: mention @all`]);
  });
});
