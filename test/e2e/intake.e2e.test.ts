import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { exampleConfig } from '../helpers/config.js';
import { startCrm } from '../crm/crm-server.js';
import { startStack, type Stack, stopStackAfterEach } from './stack.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples', 'requests');
const sample = (name: string) => readFileSync(join(SAMPLES, name), 'utf8');
/** What an AE pastes: the template as GitLab shows it, quick actions included. */
const withQuickActions = (description: string, segment: string, region: string) =>
  `${description.trimEnd()}\n\n/label ~"segment::${segment}" ~"region::${region}"\n`;

let stack: Stack | null = null;
stopStackAfterEach(() => {
  const started = stack;
  stack = null;
  return started;
});

const smbValid = (formId: 'smbeast_amr' | 'smbwest_amr') =>
  sample('mm-amr-valid.md')
    .replace('id=mm_amr version=2', `id=${formId} version=1`)
    .replace('## Scale Engagement Request — Mid-Market, AMER', '')
    .replace('$210k', '$60k');

const requestNotes = (s: Stack, iid: number) =>
  s.fake.botNotes(iid).filter((n) => readNoteMarker(n.body)?.key === 'request');

describe('intake end to end (real server + worker, fake GitLab on 127.0.0.1)', () => {
  it.each([
    ['ent_amr', sample('ent-amr-valid.md'), 'sam.sal', 'ent', 'amr', 'casey.cse'],
    ['mm_amr', sample('mm-amr-valid.md'), 'alex.ae', 'mm', 'amr', 'drew.cse'],
    ['smbeast_amr', smbValid('smbeast_amr'), 'jordan.ae', 'smb', 'amr-east', 'emery.cse'],
    ['smbwest_amr', smbValid('smbwest_amr'), 'jordan.ae', 'smb', 'amr-west', 'finley.cse'],
  ])(
    '%s: a new valid request is labelled, assigned and answered once, within seconds',
    async (form, description, author, segment, region, cse) => {
      stack = await startStack(exampleConfig());
      const created = await stack.fake
        .as(author)
        .createIssue({ title: `Request ${form}`, description: withQuickActions(description, segment, region) });
      await stack.drain();
      const issue = stack.fake.issue(created.iid);
      expect(issue.labels).toEqual(
        expect.arrayContaining([`segment::${segment}`, `region::${region}`, `form::${form}`, 'engagement::assigned']),
      );
      expect(issue.assignees.map((a) => a.username)).toEqual([cse]);
      const notes = stack.fake.botNotes(created.iid);
      expect(notes).toHaveLength(1);
      expect(notes[0]!.body).toContain(`@${author}`);
      expect(notes[0]!.body).toContain(`@${cse}`);
      expect(
        stack.fake.mentions
          .filter((m) => m.iid === created.iid)
          .map((m) => m.username)
          .sort(),
      ).toEqual([author, cse].sort());
    },
  );

  it('API economy: a new valid request costs ≤ 5 calls of which ≤ 3 writes; a redundant event writes nothing', async () => {
    stack = await startStack(exampleConfig());
    // Warm the user-id cache and the routing state read from GitLab, as a running bot has them.
    await stack.service.client.userId('drew.cse');
    await stack.service.routing.ready();
    await stack.service.processDeps.accounts.prepare(stack.service.processDeps.config);
    stack.fake.resetCalls();
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    const bot = stack.fake.callsBy(stack.fake.botUsername);
    expect(bot.length).toBeLessThanOrEqual(5);
    expect(bot.filter((c) => c.method !== 'GET').length).toBeLessThanOrEqual(3);
    stack.fake.resetCalls();
    // A person edits something the bot does not care about: one more pass, no write.
    await stack.fake.as('alex.ae').editIssue(created.iid, { title: 'Northwind Traders' });
    await stack.drain();
    expect(stack.fake.callsBy(stack.fake.botUsername).filter((c) => c.method !== 'GET')).toEqual([]);
  });

  it('invalid, then fixed by an edit: needs-info while problems remain, then assigned; one request note throughout', async () => {
    stack = await startStack(exampleConfig());
    const broken = sample('mm-amr-valid.md').replace('0014M00001lAbCdQAK', '').replace('Jan 31, 2027', '03/04/2027');
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(broken, 'mm', 'amr') });
    await stack.drain();
    let issue = stack.fake.issue(created.iid);
    expect(issue.labels).toContain('engagement::needs-info');
    expect(issue.assignees).toEqual([]);
    expect(requestNotes(stack, created.iid)[0]!.body).toMatch(/Renewal date\*\*: "03\/04\/2027" could be/);

    await stack.fake.as('alex.ae').editIssue(created.iid, { description: sample('mm-amr-valid.md') });
    await stack.drain();
    issue = stack.fake.issue(created.iid);
    expect(issue.labels).not.toContain('engagement::needs-info');
    expect(issue.labels).toContain('engagement::assigned');
    expect(issue.assignees.map((a) => a.username)).toEqual(['drew.cse']);
    expect(requestNotes(stack, created.iid)).toHaveLength(1);
    expect(requestNotes(stack, created.iid)[0]!.body).not.toContain('could be');
    // The CSE is told in a note of their own, exactly once.
    const told = stack.fake.mentions.filter((m) => m.iid === created.iid && m.username === 'drew.cse');
    expect(told).toHaveLength(1);
  });

  it('duplicate deliveries (same Idempotency-Key) are answered 200 and processed once', async () => {
    stack = await startStack(exampleConfig());
    await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    const first = stack.fake.deliveries.findIndex((d) => d.status === 202);
    stack.fake.resetCalls();
    const again = await stack.fake.resend(first);
    expect(again.status).toBe(200);
    await stack.drain();
    expect(stack.fake.callsBy(stack.fake.botUsername)).toEqual([]);
  });

  it("ignores the bot's own events (no loops), out-of-order deliveries leave the truth in place", async () => {
    stack = await startStack(exampleConfig());
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    const botEvents = stack.fake.deliveries.filter(
      (d) => (d.payload as { user: { username: string } }).user.username === 'scale-bot',
    );
    expect(botEvents.length).toBeGreaterThan(0);
    expect(botEvents.every((d) => d.status === 202)).toBe(true);
    // The open event arrives again, late and with a new key: the pass re-reads the issue and writes nothing.
    const open = stack.fake.deliveries.find(
      (d) => (d.payload as { object_attributes?: { action?: string } }).object_attributes?.action === 'open',
    )!;
    stack.fake.resetCalls();
    const late = await stack.fake.sendRaw(
      { ...open.headers, 'Idempotency-Key': crypto.randomUUID(), 'X-Gitlab-Event-UUID': crypto.randomUUID() },
      open.payload as object,
    );
    expect(late.status).toBe(202);
    await stack.drain();
    expect(stack.fake.writes()).toEqual([]);
    expect(stack.fake.issue(created.iid).assignees.map((a) => a.username)).toEqual(['drew.cse']);
  });

  it('a customer named "/close @all #1" is echoed inert: nothing closes, nobody else is mentioned', async () => {
    stack = await startStack(exampleConfig());
    const description = sample('mm-amr-valid.md').replace('Northwind Traders', '/close @all #1 ~"segment::ent" %v1');
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Evil', description: withQuickActions(description, 'mm', 'amr') });
    await stack.drain();
    expect(stack.fake.issue(created.iid).state).toBe('opened');
    expect(stack.fake.violations).toEqual([]);
    expect(stack.fake.botNotes(created.iid)[0]!.body).toContain('close');
  });

  it('survives GitLab answering 429 with Retry-After, 500, and hanging', async () => {
    stack = await startStack(exampleConfig());
    stack.fake.failNext({ method: 'GET', path: /\/issues\/\d+$/ }, { status: 429, retryAfter: 1 });
    stack.fake.failNext({ method: 'PUT', path: /\/issues\/\d+$/ }, { status: 500 });
    stack.fake.failNext({ method: 'GET', path: /\/notes$/ }, { hang: true });
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    const issue = stack.fake.issue(created.iid);
    expect(issue.labels).toContain('engagement::assigned');
    expect(issue.assignees.map((a) => a.username)).toEqual(['drew.cse']);
    expect(stack.fake.botNotes(created.iid)).toHaveLength(1);
    expect(stack.service.inbox!.list({ failed: true })).toEqual([]);
    const waited = await stack.service.metrics.registry.getSingleMetricAsString(
      'scale_bot_gitlab_rate_limit_wait_seconds_total',
    );
    expect(Number(/ (\d+(\.\d+)?)$/m.exec(waited)![1])).toBeGreaterThanOrEqual(0.9);
  });

  it('an issue that is not a request is labelled and explained once', async () => {
    stack = await startStack(exampleConfig());
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Help', description: 'Can someone help Acme with CI?' });
    await stack.drain();
    await stack.fake.as('alex.ae').editIssue(created.iid, { description: 'Can someone help Acme with CI? Thanks' });
    await stack.drain();
    expect(stack.fake.issue(created.iid).labels).toContain('engagement::not-a-request');
    expect(stack.fake.botNotes(created.iid)).toHaveLength(1);
  });

  it('a task made from a request template is not a request: its hooks are ignored, a comment on it writes nothing', async () => {
    stack = await startStack(exampleConfig());
    const task = await stack.fake.as('alex.ae').createIssue({
      title: 'Prep call',
      description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr'),
      issueType: 'task',
    });
    expect(task.issue_type).toBe('task');
    await stack.drain();
    const opened = stack.fake.deliveries.at(-1)!;
    expect(opened).toMatchObject({
      event: 'Issue Hook',
      status: 202,
      payload: { object_kind: 'work_item', object_attributes: { type: 'Task' } },
    });
    stack.fake.resetCalls();
    await stack.fake.as('alex.ae').comment(task.iid, 'Agenda attached.');
    await stack.drain();
    const comment = stack.fake.deliveries.at(-1)!;
    expect(comment).toMatchObject({ event: 'Note Hook', status: 202, payload: { issue: { type: 'Task' } } });
    // The hook says it is about a task: ignored at once, GitLab is not even asked.
    expect(stack.fake.callsBy(stack.fake.botUsername)).toEqual([]);
    // GitLab before 17.2 sends no issue.type: the pass reads the issue, sees a task, and leaves it alone.
    const { type: _type, ...untyped } = (comment.payload as { issue: Record<string, unknown> }).issue;
    await stack.fake.sendRaw(
      { ...comment.headers, 'Idempotency-Key': 'older-gitlab' },
      { ...(comment.payload as object), issue: untyped },
    );
    await stack.drain();
    expect(stack.fake.callsBy(stack.fake.botUsername).length).toBeGreaterThan(0);
    expect(stack.fake.writes()).toEqual([]);
    expect(
      stack.fake.issue(task.iid).labels.filter((l) => l.startsWith('engagement::') || l.startsWith('form::')),
    ).toEqual([]);
    expect(stack.fake.botNotes(task.iid)).toEqual([]);
  });

  it('a second open request for the same account: both are flagged and link each other', async () => {
    stack = await startStack(exampleConfig());
    const first = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind 1', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    const second = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind 2', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    for (const [iid, other] of [
      [first.iid, second.iid],
      [second.iid, first.iid],
    ] as const) {
      expect(stack.fake.issue(iid).labels).toContain('possible-duplicate');
      expect(requestNotes(stack, iid)[0]!.body).toContain(`/-/issues/${other})`);
    }
  });

  it("a burst of new requests processed side by side respects each CSE's capacity", async () => {
    stack = await startStack(exampleConfig(), { latencyMs: 20, settings: { concurrency: 16 } });
    const created = await Promise.all(
      Array.from({ length: 14 }, (_, i) =>
        stack!.fake.as('sam.sal').createIssue({
          title: `Account ${i}`,
          description: withQuickActions(
            sample('ent-amr-valid.md')
              .replace('Contoso Pharmaceuticals', `Customer ${i}`)
              .replace('0016100000XyZabAAB', `0016100000XyZaA${String(i).padStart(3, '0')}`),
            'ent',
            'amr',
          ),
        }),
      ),
    );
    await stack.drain();
    const load: Record<string, number> = {};
    for (const { iid } of created)
      for (const a of stack.fake.issue(iid).assignees) load[a.username] = (load[a.username] ?? 0) + 1;
    // casey.cse, first for ENT AMER, takes up to the configured capacity of 10; drew.cse the rest.
    expect(load).toEqual({ 'casey.cse': 10, 'drew.cse': 4 });
  });

  it('a deleted issue ends its job quietly: a late delivery about it, or a deletion in the middle of a pass', async () => {
    stack = await startStack(exampleConfig());
    const late = await stack.fake.as('alex.ae').createIssue({ title: 'Gone', description: 'x' });
    await stack.drain();
    const delivery = stack.fake.deliveries.find((d) => d.event === 'Issue Hook')!;
    stack.fake.as('root').deleteIssue(late.iid);
    const since = stack.fake.calls.length;
    // GitLab delivers hooks from a queue: one about the issue may arrive after it was deleted.
    await stack.fake.sendRaw({ ...delivery.headers, 'Idempotency-Key': 'late-delivery' }, delivery.payload as object);
    await stack.drain();
    const lateCalls = stack.fake.calls.slice(since).filter((c) => new RegExp(`/issues/${late.iid}(/|$)`).test(c.path));
    // Deleted while the bot was applying its plan: its PUT answers 404.
    const racingIid = late.iid + 1;
    stack.fake.failNext(
      { method: 'PUT', path: new RegExp(`/issues/${racingIid}$`) },
      { before: () => stack!.fake.as('root').deleteIssue(racingIid) },
    );
    await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Racing', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    expect(
      stack.fake.calls
        .filter((c) => c.method === 'PUT' && c.path.endsWith(`/issues/${racingIid}`))
        .map((c) => c.status),
    ).toEqual([404]);
    expect(stack.service.inbox!.list({ failed: true })).toEqual([]);
    expect(lateCalls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(lateCalls.filter((c) => c.status === 404).length).toBeGreaterThan(0);
  });

  it('lifecycle by labels: the CSE accepts (tracker gains the CTA), a refused move is reverted with a note, closing by hand is recorded', async () => {
    stack = await startStack(exampleConfig());
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    // The author may not accept on the CSE's behalf: reverted, and told why.
    await stack.fake.as('alex.ae').editIssue(created.iid, { addLabels: ['engagement::accepted'] });
    await stack.drain();
    expect(stack.fake.issue(created.iid).labels).toContain('engagement::assigned');
    const refusal = stack.fake.botNotes(created.iid).find((n) => readNoteMarker(n.body)?.key.startsWith('refused-'));
    expect(refusal?.body).toContain('@alex.ae, the move to `accepted` was undone');
    // The assigned CSE accepts.
    await stack.fake.as('drew.cse').editIssue(created.iid, { addLabels: ['engagement::accepted'] });
    await stack.drain();
    expect(stack.fake.issue(created.iid).labels).toContain('engagement::accepted');
    const tracker = requestNotes(stack, created.iid)[0]!.body;
    expect(tracker).toContain('| Name | Northwind Traders - Ad-Hoc Scale CSE Engagement Request |');
    expect(tracker).toContain('- [ ] CTA created');
    expect(tracker).toMatch(/— accepted \(drew\.cse\)/);
    // Two label edits in quick succession (one coalesced pass): both judged, in order.
    await stack.fake.as('casey.cse').editIssue(created.iid, { addLabels: ['engagement::scheduled'] });
    await stack.fake.as('harper.mgr').editIssue(created.iid, { addLabels: ['engagement::completed'] });
    await stack.drain();
    expect(stack.fake.issue(created.iid).labels).toContain('engagement::completed');
    expect(stack.fake.issue(created.iid).state).toBe('opened'); // the checklist is not done
    expect(requestNotes(stack, created.iid)[0]!.body).toMatch(
      /— scheduled \(casey\.cse\)\n- .* — completed \(harper\.mgr\)/,
    );
    // Closed by hand before completion.
    await stack.fake.as('drew.cse').closeIssue(created.iid);
    await stack.drain();
    const closed = stack.fake.issue(created.iid);
    expect(closed.state).toBe('closed');
    expect(closed.labels).toContain('engagement::closed-incomplete');
    expect(stack.fake.botNotes(created.iid).some((n) => n.body.includes('closed by hand before completion'))).toBe(
      true,
    );
    expect(
      stack.fake.botNotes(created.iid).some((n) => n.body.includes('still open on the checklist: CTA created')),
    ).toBe(true);
    // Replaying every delivery again changes nothing and adds no note.
    const notesBefore = stack.fake.botNotes(created.iid).length;
    stack.fake.resetCalls();
    const sent = stack.fake.deliveries.length;
    for (let i = 0; i < sent; i++) await stack.fake.resend(i);
    await stack.drain();
    expect(stack.fake.writes()).toEqual([]);
    expect(stack.fake.botNotes(created.iid)).toHaveLength(notesBefore);
  });

  it('commands in comments: the CSE accepts with @scale-bot accept, answered in one reply', async () => {
    stack = await startStack(exampleConfig());
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    const note = await stack.fake.as('drew.cse').comment(created.iid, 'Happy to help.\n@scale-bot accept');
    await stack.drain();
    expect(stack.fake.issue(created.iid).labels).toContain('engagement::accepted');
    const replies = stack.fake.botNotes(created.iid).filter((n) => readNoteMarker(n.body)?.key.startsWith('reply-'));
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('@drew.cse, done: the request is now `accepted`');
    // Editing the comment does not run it again.
    await stack.fake.as('drew.cse').editComment(created.iid, note!.id, 'Happy to help!\n@scale-bot accept');
    await stack.drain();
    expect(
      stack.fake.botNotes(created.iid).filter((n) => readNoteMarker(n.body)?.key.startsWith('reply-')),
    ).toHaveLength(1);
  });

  it('the bot note deleted by a maintainer just before the bot edits it: recreated once, nothing dead-lettered', async () => {
    stack = await startStack(exampleConfig());
    const created = await stack.fake.as('alex.ae').createIssue({
      title: 'Northwind',
      description: withQuickActions(sample('smbeast-amr-missing-fields.md'), 'smbeast', 'amr'),
    });
    await stack.drain();
    const [before] = requestNotes(stack, created.iid);
    stack.fake.failNext(
      { method: 'PUT', path: new RegExp(`/notes/${before!.id}$`) },
      { before: () => stack!.fake.as('root').deleteNote(created.iid, before!.id) },
    );
    await stack.fake
      .as('alex.ae')
      .editIssue(created.iid, { description: withQuickActions(sample('mm-amr-valid.md'), 'smbeast', 'amr') });
    await stack.drain();
    expect(
      stack.fake.calls
        .filter((c) => c.method === 'PUT' && c.path.endsWith(`/notes/${before!.id}`))
        .map((c) => c.status),
    ).toEqual([404]);
    expect(stack.service.inbox!.list({ failed: true })).toEqual([]);
    const after = requestNotes(stack, created.iid);
    expect(after).toHaveLength(1);
    expect(after[0]!.id).not.toBe(before!.id);
    expect(after[0]!.body).not.toBe(before!.body);
  });

  it('a copy of the request note (another process passed the issue at the same time) is deleted on the next pass', async () => {
    stack = await startStack(exampleConfig());
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    const [kept] = requestNotes(stack, created.iid);
    const copy = await stack.fake
      .as(stack.fake.botUsername)
      .comment(created.iid, kept!.body.replace('drew.cse', 'casey.cse'));
    await stack.drain();
    expect(requestNotes(stack, created.iid)).toHaveLength(2);
    stack.fake.resetCalls();
    await stack.fake.as('alex.ae').editIssue(created.iid, { title: 'Northwind Traders' });
    await stack.drain();
    expect(requestNotes(stack, created.iid).map((n) => n.id)).toEqual([kept!.id]);
    const writes = stack.fake.writes().map((c) => `${c.method} ${c.path}`);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(new RegExp(`^DELETE /api/v4/projects/[^/]+/issues/${created.iid}/notes/${copy!.id}$`));
  });

  it('internal notes stay internal: a decline with its reason in an internal comment is answered in internal notes', async () => {
    stack = await startStack(exampleConfig());
    const created = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
    await stack.drain();
    await stack.fake
      .as('drew.cse')
      .comment(created.iid, '@scale-bot decline Customer is in a legal dispute with us', { internal: true });
    await stack.drain();
    expect(stack.fake.issue(created.iid).state).toBe('closed');
    const echoed = stack.fake
      .botNotes(created.iid)
      .filter((n) => n.body.includes('legal dispute') || readNoteMarker(n.body)?.key.startsWith('reply-'));
    expect(echoed.map((n) => readNoteMarker(n.body)?.key.replace(/\d+$/, ''))).toEqual(
      expect.arrayContaining(['declined-', 'reply-']),
    );
    for (const n of echoed) expect(n.internal).toBe(true);
    expect(
      stack.fake
        .botNotes(created.iid)
        .filter((n) => !n.internal)
        .some((n) => n.body.includes('legal dispute')),
    ).toBe(false);
  });

  it('CRM sink: on acceptance the CTA record is sent once (through a failure), and its id shows in the tracker', async () => {
    const crm = await startCrm([500]);
    try {
      stack = await startStack(exampleConfig(), {
        settings: { crm: { url: crm.url, token: 'crm-secret', retries: 3, minBackoffMs: 20 } },
      });
      const created = await stack.fake
        .as('alex.ae')
        .createIssue({ title: 'Northwind', description: withQuickActions(sample('mm-amr-valid.md'), 'mm', 'amr') });
      await stack.drain();
      expect(crm.requests).toHaveLength(0);
      await stack.fake.as('drew.cse').editIssue(created.iid, { addLabels: ['engagement::accepted'] });
      await stack.drain();
      expect(crm.records.size).toBe(1);
      expect(crm.requests.map((r) => (r.body as { company: string }).company)).toEqual([
        'Northwind Traders',
        'Northwind Traders',
      ]);
      expect(requestNotes(stack, created.iid)[0]!.body).toContain('| CRM record | CTA-1 |');
      // More events and full replays never send it again.
      const sent = stack.fake.deliveries.length;
      for (let i = 0; i < sent; i++) await stack.fake.resend(i);
      await stack.fake.as('drew.cse').editIssue(created.iid, { addLabels: ['engagement::scheduled'] });
      await stack.drain();
      expect(crm.requests).toHaveLength(2);
    } finally {
      await crm.stop();
    }
  });
});
