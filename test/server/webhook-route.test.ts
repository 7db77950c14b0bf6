import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { createApp } from '../../src/server/app.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { MAX_BODY_BYTES } from '../../src/server/webhook-route.js';
import type { GroupCommitOptions } from '../../src/queue/group-commit.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'gitlab');
/** GitLab's documented examples (webhook_events.md), copied verbatim into test/fixtures/gitlab/. */
const documented = (name: string): Record<string, any> => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

/** The documented Issue Hook example, moved to this test's project, issue and actor. */
function issueHook(overrides: { username?: string; projectId?: number; iid?: number; action?: string } = {}) {
  const hook = documented('issue-hook-open.json');
  hook.user.username = overrides.username ?? 'alex.ae';
  hook.project.id = overrides.projectId ?? 15;
  hook.project.path_with_namespace = 'sales/scale-engagement-requests';
  hook.object_attributes.iid = overrides.iid ?? 23;
  hook.object_attributes.action = overrides.action ?? 'open';
  return hook;
}

/** The documented Note Hook example for a comment on an issue (or, retyped, on something else). */
function noteHook(noteableType = 'Issue') {
  const hook = documented('note-hook-issue.json');
  hook.project.id = 15;
  hook.project.path_with_namespace = 'sales/scale-engagement-requests';
  hook.object_attributes.noteable_type = noteableType;
  hook.issue.iid = 17;
  return hook;
}

let server: Server;
let base: string;
let inbox: SqliteInbox;
let metrics: Metrics;
let queued = 0;
let refused: number[] = [];
const now = 1_800_000_000_000;

/** A Push Hook (lib/gitlab/data_builder/push.rb), reduced to what the route reads plus a little. */
function pushHook(ref: string) {
  return {
    object_kind: 'push',
    event_name: 'push',
    before: 'a'.repeat(40),
    after: 'b'.repeat(40),
    ref,
    checkout_sha: 'b'.repeat(40),
    user_username: 'alex.ae',
    project_id: 15,
    project: { id: 15, path_with_namespace: 'sales/scale-engagement-requests', default_branch: 'main' },
    commits: [],
    total_commits_count: 1,
  };
}

/** The bot user's id, as GET /user tells the service at start. */
const BOT_ID = 77;

async function start(
  options: {
    secret?: string | null;
    signingKey?: string | null;
    project?: { id: number | null; path: string | null };
    logger?: pino.Logger;
    botUserId?: number | null;
    commits?: Partial<GroupCommitOptions>;
    bodyBytesInFlight?: number;
    inbox?: SqliteInbox;
    onDefaultBranchPush?: () => void;
  } = {},
) {
  inbox = options.inbox ?? SqliteInbox.open(':memory:');
  metrics = createMetrics(() => inbox.depth());
  const app = createApp({
    inbox,
    settings: {
      secret: options.secret === undefined ? 'hook-secret' : options.secret,
      signingKey: options.signingKey ?? null,
      project: options.project ?? { id: 15, path: null },
      botUsername: () => 'scale-bot',
      botUserId: () => (options.botUserId === undefined ? BOT_ID : options.botUserId),
    },
    logger: options.logger ?? pino({ level: 'silent' }),
    metrics,
    now: () => now,
    onQueued: () => queued++,
    onRefused: (at) => refused.push(at),
    commits: options.commits,
    bodyBytesInFlight: options.bodyBytesInFlight,
    ...(options.onDefaultBranchPush ? { onDefaultBranchPush: options.onDefaultBranchPush } : {}),
    readiness: async () => ({ ok: true, checks: { store: 'ok' } }),
  });
  server = await new Promise<Server>((resolve) => {
    const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeEach(() => {
  queued = 0;
  refused = [];
});
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  inbox.close();
});

/** What GitLab sends with a delivery (fresh ids each time), plus overrides. */
function postHeaders(headers: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-gitlab-event': 'Issue Hook',
    'x-gitlab-token': 'hook-secret',
    'idempotency-key': crypto.randomUUID(),
    'x-gitlab-event-uuid': crypto.randomUUID(),
    'x-gitlab-instance': 'https://gitlab.example.com',
    'user-agent': 'GitLab/18.6.0',
    ...headers,
  };
}

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}/webhooks/gitlab`, {
    method: 'POST',
    headers: postHeaders(headers),
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

describe('POST /webhooks/gitlab', () => {
  it('queues a documented Issue Hook: persisted before the answer, the worker woken', async () => {
    await start();
    const res = await post(issueHook());
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'queued', issue: 23 });
    expect(inbox.depth().pending).toBe(1);
    expect(queued).toBe(1);
    const [job] = inbox.list({});
    expect(job!.issue).toEqual({ projectId: 15, iid: 23 });
  });

  it('answers a duplicate Idempotency-Key with 200 and processes it once', async () => {
    await start();
    const headers = { 'idempotency-key': 'same-key' };
    expect((await post(issueHook(), headers)).status).toBe(202);
    const again = await post(issueHook(), headers);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    expect(inbox.list({})).toHaveLength(1);
    expect(queued).toBe(1);
  });

  it('without Idempotency-Key, deduplicates on event uuid + body', async () => {
    await start();
    const body = JSON.stringify(issueHook());
    const headers = { 'idempotency-key': '', 'x-gitlab-event-uuid': 'uuid-1' };
    const strip = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ''));
    const first = await fetch(`${base}/webhooks/gitlab`, {
      method: 'POST',
      headers: strip({ 'x-gitlab-event': 'Issue Hook', 'x-gitlab-token': 'hook-secret', ...headers }),
      body,
    });
    const second = await fetch(`${base}/webhooks/gitlab`, {
      method: 'POST',
      headers: strip({ 'x-gitlab-event': 'Issue Hook', 'x-gitlab-token': 'hook-secret', ...headers }),
      body,
    });
    expect([first.status, second.status]).toEqual([202, 200]);
  });

  it('queues confidential issue events and comments on issues', async () => {
    await start();
    expect(
      (
        await post(
          { ...issueHook(), event_type: 'confidential_issue' },
          { 'x-gitlab-event': 'Confidential Issue Hook' },
        )
      ).status,
    ).toBe(202);
    const note = await post(noteHook(), { 'x-gitlab-event': 'Note Hook' });
    expect(note.status).toBe(202);
    expect(await note.json()).toMatchObject({ issue: 17 });
  });

  it.each([
    ['a missing token', { 'x-gitlab-token': '' }, 401],
    ['a wrong token', { 'x-gitlab-token': 'nope' }, 401],
  ])('rejects %s with 401 and no detail', async (_name, headers, status) => {
    await start();
    const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
    const res = await fetch(`${base}/webhooks/gitlab`, {
      method: 'POST',
      headers: { 'x-gitlab-event': 'Issue Hook', 'content-type': 'application/json', ...clean },
      body: JSON.stringify(issueHook()),
    });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: 'unauthorized' });
    expect(inbox.list({})).toHaveLength(0);
  });

  it('answers 403 for another project, 400 for malformed JSON or a body that is not a webhook', async () => {
    await start();
    expect((await post(issueHook({ projectId: 99 }))).status).toBe(403);
    expect((await post('{"object_kind": "issue",')).status).toBe(400);
    const invalid = await post({
      object_kind: 'issue',
      user: { username: 'x' },
      project: { id: 15 },
      object_attributes: { iid: 'seven' },
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { problems: string[] }).problems[0]).toMatch(/object_attributes.iid/);
    expect(inbox.list({})).toHaveLength(0);
  });

  it('matches the project by path when configured with one', async () => {
    await start({ project: { id: null, path: 'Sales/Scale-Engagement-Requests' } });
    expect((await post(issueHook({ projectId: 99 }))).status).toBe(202);
  });

  it('ignores unhandled event kinds, the bot’s own events and comments on other things with 202', async () => {
    await start();
    for (const [body, event] of [
      [{ object_kind: 'tag_push' }, 'Tag Push Hook'],
      [pushHook('refs/heads/feature'), 'Push Hook'],
      [issueHook({ username: 'scale-bot' }), 'Issue Hook'],
      [noteHook('MergeRequest'), 'Note Hook'],
    ] as const) {
      const res = await post(body, { 'x-gitlab-event': event });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ status: 'ignored' });
    }
    expect(inbox.list({})).toHaveLength(0);
  });

  it("a push to the default branch starts a configuration check (nothing queued); another project's push is refused", async () => {
    let pushes = 0;
    await start({ onDefaultBranchPush: () => pushes++ });
    const res = await post(pushHook('refs/heads/main'), { 'x-gitlab-event': 'Push Hook' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'configuration check started', commit: 'b'.repeat(40) });
    expect(pushes).toBe(1);
    expect(
      (
        await post(
          { ...pushHook('refs/heads/main'), project: { id: 99, default_branch: 'main' } },
          { 'x-gitlab-event': 'Push Hook' },
        )
      ).status,
    ).toBe(403);
    expect((await post({ object_kind: 'push' }, { 'x-gitlab-event': 'Push Hook' })).status).toBe(400);
    expect(pushes).toBe(1);
    expect(inbox.list({})).toHaveLength(0);
  });

  /** The documented Note Hook, as GitLab sends it for an edit of the bot's note (Notes::UpdateService: `user` is the note's author). */
  function botNoteEdit(updatedById: number | null | undefined) {
    const hook = noteHook();
    hook.user.username = 'scale-bot';
    hook.user.id = BOT_ID;
    hook.object_attributes.author_id = BOT_ID;
    hook.object_attributes.action = 'update';
    if (updatedById === undefined) delete hook.object_attributes.updated_by_id;
    else hook.object_attributes.updated_by_id = updatedById;
    return hook;
  }

  it("queues a person's edit of the bot's note (GitLab names the note's author as user); ignores the bot's own edits", async () => {
    await start();
    // A CSE (id 12) ticks a box in the bot's note: `user` is the bot, the editor is updated_by_id.
    const ticked = await post(botNoteEdit(12), { 'x-gitlab-event': 'Note Hook' });
    expect(ticked.status).toBe(202);
    expect(await ticked.json()).toMatchObject({ status: 'queued', issue: 17 });
    const own = await post(botNoteEdit(BOT_ID), { 'x-gitlab-event': 'Note Hook' });
    expect(await own.json()).toMatchObject({ status: 'ignored', reason: "the bot's own event" });
    // The bot's own new note is its own event, whatever updated_by_id says (null on creation).
    const created = botNoteEdit(null);
    created.object_attributes.action = 'create';
    expect(await (await post(created, { 'x-gitlab-event': 'Note Hook' })).json()).toMatchObject({ status: 'ignored' });
    expect(inbox.list({})).toHaveLength(1);
  });

  it('takes an edit of the bot note as a hint when GitLab does not say who edited it, or the bot id is not known yet', async () => {
    await start();
    for (const editor of [null, undefined]) {
      expect(
        await (await post(botNoteEdit(editor), { 'x-gitlab-event': 'Confidential Note Hook' })).json(),
      ).toMatchObject({ status: 'queued' });
    }
    await new Promise<void>((r) => server.close(() => r()));
    inbox.close();
    await start({ botUserId: null });
    expect(await (await post(botNoteEdit(BOT_ID), { 'x-gitlab-event': 'Note Hook' })).json()).toMatchObject({
      status: 'queued',
    });
  });

  it('ignores tasks, epics and other work items that GitLab sends as Issue Hook (object_kind work_item) with 202', async () => {
    await start();
    const task = issueHook({ iid: 40 });
    Object.assign(task, { object_kind: 'work_item', event_type: 'work_item' });
    task.object_attributes.type = 'Task';
    // A group epic: no project at all.
    const epic = issueHook({ iid: 41 });
    Object.assign(epic, { object_kind: 'work_item', event_type: 'work_item' });
    epic.object_attributes.type = 'Epic';
    delete epic.project;
    for (const [body, event] of [
      [task, 'Issue Hook'],
      [task, 'Confidential Issue Hook'],
      [epic, 'Issue Hook'],
    ] as const) {
      const res = await post(body, { 'x-gitlab-event': event });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({
        status: 'ignored',
        reason: 'a work item that is not an issue (task, epic, …)',
      });
    }
    expect(inbox.list({})).toHaveLength(0);
  });

  it('a comment on a task (noteable_type Issue, issue.type Task) is ignored; on an issue, typed or not (before GitLab 17.2), it is queued', async () => {
    await start();
    const onTask = noteHook();
    onTask.issue.type = 'Task';
    const res = await post(onTask, { 'x-gitlab-event': 'Note Hook' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'ignored', reason: 'not about an issue' });
    expect(inbox.list({})).toHaveLength(0);
    const typed = noteHook();
    typed.issue.type = 'Issue';
    const untyped = noteHook();
    delete untyped.issue.type;
    for (const body of [typed, untyped])
      expect(await (await post(body, { 'x-gitlab-event': 'Note Hook' })).json()).toMatchObject({
        status: 'queued',
        issue: 17,
      });
    expect(inbox.list({}).map((j) => j.issue.iid)).toEqual([17]);
  });

  it('when the project id is known, a matching path alone does not make a delivery ours', async () => {
    await start({ project: { id: 15, path: 'sales/scale-engagement-requests' } });
    expect((await post(issueHook({ projectId: 99 }))).status).toBe(403);
    expect((await post(issueHook({ projectId: 15 }))).status).toBe(202);
  });

  it('accepts bodies far above the usual 100 kB body-parser default (GitLab sends up to 25 MB)', async () => {
    await start();
    const big = issueHook();
    big.object_attributes.description = 'x'.repeat(5 * 1024 * 1024);
    expect((await post(big)).status).toBe(202);
  });

  it('verifies Standard Webhooks signatures when a signing key is set', async () => {
    const key = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    await start({ signingKey: key });
    const body = JSON.stringify(issueHook());
    const ts = String(Math.floor(now / 1000));
    const signature = `v1,${createHmac('sha256', Buffer.from('0123456789abcdef0123456789abcdef')).update(`msg_1.${ts}.${body}`).digest('base64')}`;
    expect(
      (await post(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': ts, 'webhook-signature': signature })).status,
    ).toBe(202);
    expect(
      (await post(body, { 'webhook-id': 'msg_2', 'webhook-timestamp': ts, 'webhook-signature': signature })).status,
    ).toBe(401);
    expect((await post(body)).status).toBe(401);
  });

  it('with a signing key and no secret token, the signature alone admits a delivery', async () => {
    const key = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    await start({ secret: null, signingKey: key });
    const body = JSON.stringify(issueHook());
    const ts = String(Math.floor(now / 1000));
    const signature = `v1,${createHmac('sha256', Buffer.from('0123456789abcdef0123456789abcdef')).update(`msg_1.${ts}.${body}`).digest('base64')}`;
    const { 'x-gitlab-token': _token, ...unsigned } = postHeaders();
    const send = (headers: Record<string, string>) =>
      fetch(`${base}/webhooks/gitlab`, { method: 'POST', headers: { ...unsigned, ...headers }, body });
    expect(
      (await send({ 'webhook-id': 'msg_1', 'webhook-timestamp': ts, 'webhook-signature': signature })).status,
    ).toBe(202);
    expect((await send({})).status).toBe(401);
    expect(
      (
        await send({
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(Number(ts) - 3600),
          'webhook-signature': signature,
        })
      ).status,
    ).toBe(401);
  });

  it('counts deliveries by event and outcome in /metrics; /healthz and /readyz answer', async () => {
    await start();
    await post(issueHook());
    await post(issueHook(), { 'x-gitlab-token': 'bad' });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('scale_bot_webhook_deliveries_total{event="Issue Hook",outcome="queued"} 1');
    // Before authentication the event header labels nothing: a sender without the token adds no series.
    expect(text).toContain('scale_bot_webhook_deliveries_total{event="other",outcome="unauthorized"} 1');
    expect(text).toContain('scale_bot_queue_jobs{status="pending"} 1');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ok: true, checks: { store: 'ok' } });
  });

  it('logs queued deliveries at debug and every other outcome at info, keyed by delivery id', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    await start({ logger });
    await post(issueHook(), { 'idempotency-key': 'key-queued' });
    await post(issueHook(), { 'x-gitlab-token': 'bad', 'idempotency-key': 'key-rejected' });
    // Without Idempotency-Key (GitLab before 17.4), the attempt's own X-Gitlab-Webhook-UUID names it, not the event UUID a chain of hooks shares.
    const { 'idempotency-key': _key, ...older } = postHeaders({
      'x-gitlab-webhook-uuid': 'attempt-uuid',
      'x-gitlab-event-uuid': 'chain-uuid',
    });
    await fetch(`${base}/webhooks/gitlab`, { method: 'POST', headers: older, body: JSON.stringify(issueHook()) });
    const answered = lines.filter((l) => l.msg === 'webhook answered');
    expect(answered).toEqual([
      expect.objectContaining({
        level: 20,
        delivery: 'key-queued',
        event: 'Issue Hook',
        status: 202,
        outcome: 'queued',
      }),
      expect.objectContaining({
        level: 30,
        delivery: 'key-rejected',
        event: 'other',
        status: 401,
        outcome: 'unauthorized',
      }),
      expect.objectContaining({ level: 20, delivery: 'attempt-uuid', status: 202, outcome: 'queued' }),
    ]);
  });

  it('answers with the same JSON and content type as before, without an ETag', async () => {
    await start();
    const res = await post(issueHook());
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('etag')).toBeNull();
    const text = await res.text();
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
  });

  it('stores the body as received and returns it as text', async () => {
    await start();
    const body = JSON.stringify(issueHook());
    const res = await post(body);
    const { delivery } = (await res.json()) as { delivery: number };
    expect(inbox.delivery(delivery)?.body).toBe(body);
  });
});

describe('the webhook endpoint on node:http (in front of express)', () => {
  it('accepts the endpoint with a query string or a final slash; other methods and paths go to express', async () => {
    await start();
    expect(
      (
        await fetch(`${base}/webhooks/gitlab?from=gitlab`, {
          method: 'POST',
          headers: postHeaders(),
          body: JSON.stringify(issueHook()),
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await fetch(`${base}/webhooks/gitlab/`, {
          method: 'POST',
          headers: postHeaders(),
          body: JSON.stringify(issueHook({ iid: 24 })),
        })
      ).status,
    ).toBe(202);
    expect(inbox.list({})).toHaveLength(2);
    expect((await fetch(`${base}/webhooks/gitlab`)).status).toBe(404);
    expect((await fetch(`${base}/webhooks/other`, { method: 'POST', headers: postHeaders(), body: '{}' })).status).toBe(
      404,
    );
  });

  it('answers 413 to a body over 25 MB, keeps nothing, and the connection stays usable', async () => {
    await start();
    const res = await post(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20).toString());
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'body too large' });
    expect(inbox.list({})).toHaveLength(0);
    expect((await post(issueHook())).status).toBe(202);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('scale_bot_webhook_deliveries_total{event="Issue Hook",outcome="too-large"} 1');
  });

  it('answers 415 to a compressed body (GitLab never compresses webhooks)', async () => {
    await start();
    const res = await post(gzipSync(JSON.stringify(issueHook())), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: 'unsupported content encoding "gzip"' });
    expect(inbox.list({})).toHaveLength(0);
  });

  it('answers 400 when the body is shorter than its Content-Length (the sender hung up)', async () => {
    await start();
    const { port } = new URL(base);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nX-Gitlab-Event: Issue Hook\r\nX-Gitlab-Token: hook-secret\r\n' +
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"object_kind":',
        );
        socket.end(); // half-close: the server sees the body end early
      });
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(inbox.list({})).toHaveLength(0);
  });

  it('answers 503 (GitLab pauses the hook; a 4xx would disable it) and logs the error when the store fails, and loses nothing it acknowledged', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    await start({ logger });
    expect((await post(issueHook())).status).toBe(202);
    const accept = inbox.acceptMany.bind(inbox);
    inbox.acceptMany = () => {
      throw new Error('disk I/O error');
    };
    const res = await post(issueHook({ iid: 99 }));
    inbox.acceptMany = accept;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: 'the inbox cannot take deliveries now; updates since will be reconciled',
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 50, msg: 'inbox refused the delivery', err: 'disk I/O error' }),
    );
    expect(inbox.list({}).map((j) => j.issue.iid)).toEqual([23]);
    expect(refused).toEqual([now]);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('scale_bot_webhook_deliveries_total{event="Issue Hook",outcome="refused"} 1');
  });
});

describe('hardening (issue #16)', () => {
  const seriesOf = (text: string) =>
    text.split('\n').filter((l) => l.startsWith('scale_bot_webhook_deliveries_total{'));

  it('unauthenticated requests add no metric series, whatever their X-Gitlab-Event (3,000 unique names added 3,000 series)', async () => {
    await start();
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post('{}', { 'x-gitlab-token': 'wrong', 'x-gitlab-event': `Evil Hook ${i}` }),
      ),
    );
    await post(issueHook(), { 'x-gitlab-event': 'Pipeline Hook' });
    const series = seriesOf(await (await fetch(`${base}/metrics`)).text());
    expect(series).toEqual([
      'scale_bot_webhook_deliveries_total{event="other",outcome="unauthorized"} 200',
      'scale_bot_webhook_deliveries_total{event="other",outcome="ignored"} 1',
    ]);
  });

  it('answers a request without the token before reading its body, and closes the connection', async () => {
    await start();
    // Announces 24 MB and sends none of it: the answer must not wait for the body.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
        socket.write(
          'POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nX-Gitlab-Event: Issue Hook\r\nContent-Type: application/json\r\nContent-Length: 25165824\r\n\r\n',
        );
      });
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      setTimeout(() => reject(new Error(`no answer: ${data}`)), 3_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1.1 401/);
    expect(answer).toMatch(/connection: close/i);
  });

  it('a signed delivery replayed with a new Idempotency-Key but the same webhook-id is a duplicate', async () => {
    const key = `whsec_${Buffer.from('replay-test-key-bytes').toString('base64')}`;
    await start({ secret: null, signingKey: key });
    const body = JSON.stringify(issueHook());
    const ts = String(Math.floor(now / 1000));
    const signature = `v1,${createHmac('sha256', Buffer.from('replay-test-key-bytes')).update(`msg_1.${ts}.${body}`).digest('base64')}`;
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': ts,
      'webhook-signature': signature,
      'x-gitlab-token': '',
    };
    expect((await post(body, { ...headers, 'idempotency-key': 'first' })).status).toBe(202);
    const replay = await post(body, { ...headers, 'idempotency-key': 'replayed' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ status: 'duplicate' });
    expect(inbox.depth().pending).toBe(1);
  });
});

describe('a store that refuses writes (issue #16, point 1)', () => {
  let dir: string;
  let holder: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scale-bot-lock-'));
  });
  afterEach(() => {
    if (holder?.open) holder.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const lockedInbox = () => {
    const file = join(dir, 'inbox.sqlite');
    const store = SqliteInbox.open(file, undefined, { busyTimeoutMs: 0 });
    holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE');
    return store;
  };

  it('waits for another process holding the write lock without blocking the event loop, then acknowledges', async () => {
    await start({ inbox: lockedInbox() });
    const answer = post(issueHook());
    // While the delivery waits for the lock, the server answers other requests at once.
    const t0 = performance.now();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 300));
    holder.exec('COMMIT');
    const res = await answer;
    expect(res.status).toBe(202);
    expect(inbox.depth().pending).toBe(1);
    expect(refused).toEqual([]);
  });

  it('answers 503 once the lock is held past the deadline, and reports the refusal so the service reconciles', async () => {
    await start({ inbox: lockedInbox(), commits: { deadlineMs: 200 } });
    const res = await post(issueHook());
    expect(res.status).toBe(503);
    expect(refused).toEqual([now]);
    holder.exec('ROLLBACK');
    expect(inbox.depth().pending).toBe(0);
  });
});
