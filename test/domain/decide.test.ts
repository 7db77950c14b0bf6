import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { requestAccount } from '../../src/domain/account.js';
import { readRequest } from '../../src/domain/read-request.js';
import { compileConfig } from '../../src/domain/config.js';
import { decide, type DecideInput } from '../../src/domain/decide.js';
import { countWrites, isEmptyPlan, type Plan } from '../../src/domain/plan.js';
import type { Workload } from '../../src/domain/route.js';
import type { IssueSnapshot, LabelEvent, RelatedIssue } from '../../src/domain/snapshot.js';
import { renderNote } from '../../src/render/notes.js';
import { exampleConfig } from '../helpers/config.js';
import { issueSnapshot } from '../helpers/issue-snapshot.js';
import * as yaml from 'js-yaml';
import { EXAMPLE_CONFIG_PATH } from '../helpers/config.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples', 'requests');
const sample = (name: string) => readFileSync(join(SAMPLES, name), 'utf8');
const NOW = new Date('2026-11-22T10:00:00Z');
const EMPTY: Workload = { open: {}, lastAssigned: {} };

let nextNoteId = 100;
/** What GitLab would hold after applying the plan: the test's stand-in for apply + reload. */
function applied(s: IssueSnapshot, plan: Plan): IssueSnapshot {
  const lower = new Set(plan.labels.remove.map((l) => l.toLowerCase()));
  const labels = [...s.labels.filter((l) => !lower.has(l.toLowerCase())), ...plan.labels.add];
  const deleted = new Set(plan.deleteNotes.map((n) => n.noteId));
  const botNotes = s.botNotes.filter((n) => !deleted.has(n.id));
  for (const n of plan.notes) {
    const marker = readNoteMarker(n.body)!;
    if (n.action === 'create') botNotes.push({ id: nextNoteId++, key: marker.key, body: n.body, state: marker.state });
    else {
      const i = botNotes.findIndex((b) => b.id === n.noteId);
      botNotes[i] = { id: n.noteId, key: marker.key, body: n.body, state: marker.state };
    }
  }
  const closing =
    plan.stateEvent === 'close' ? { state: 'closed' as const, closedBy: 'scale-bot', closedAt: NOW.toISOString() } : {};
  const reopening = plan.stateEvent === 'reopen' ? { state: 'opened' as const, closedBy: null, closedAt: null } : {};
  return { ...s, labels, assignees: plan.assignees ?? s.assignees, botNotes, ...closing, ...reopening };
}

function run(s: IssueSnapshot, extra: Partial<DecideInput> = {}, config = exampleConfig()): Plan {
  return decide(
    { issue: s, request: readRequest(s, config), related: [], workload: EMPTY, botUsername: 'scale-bot', ...extra },
    config,
    NOW,
    renderNote,
  );
}

/** Decides, applies, and checks that deciding again over the result writes nothing. */
function settle(
  s: IssueSnapshot,
  extra: Partial<DecideInput> = {},
  config = exampleConfig(),
): { plan: Plan; after: IssueSnapshot } {
  const plan = run(s, extra, config);
  const after = applied(s, plan);
  const again = run(after, extra, config);
  expect(again, `second pass over #${s.iid} should write nothing`).toMatchObject({
    labels: { add: [], remove: [] },
    assignees: null,
    notes: [],
  });
  return { plan, after };
}

const requestNote = (s: IssueSnapshot) => s.botNotes.find((n) => n.key === 'request')!;

describe('decide: scoped labels', () => {
  it("leaves a flag off when a label it does not manage holds the flag's scope, and writes nothing again", () => {
    const { plan, after } = settle(issueSnapshot({ labels: ['segment::mm', 'region::amr', 'escalation::approved'] }));
    expect(plan.labels.add).not.toContain('escalation::candidate');
    expect(plan.labels.add).toContain('at-risk');
    expect(plan.labels.remove).toEqual([]);
    expect(plan.summary).toContain('escalation::candidate left off: escalation::approved holds its scope');
    expect(after.labels).toContain('escalation::approved');
  });
});

describe('decide: a new request', () => {
  it('a valid request is labelled, assigned and answered with one note that mentions the CSE; ≤ 2 writes', () => {
    const { plan, after } = settle(issueSnapshot());
    expect(plan.labels.add).toEqual(
      expect.arrayContaining([
        'form::mm_amr',
        'priority::high',
        'engagement::assigned',
        'escalation::candidate',
        'at-risk',
      ]),
    );
    expect(plan.labels.remove).toEqual([]);
    expect(plan.assignees).toEqual(['drew.cse']);
    expect(plan.notes).toHaveLength(1);
    expect(plan.notes[0]).toMatchObject({ action: 'create', key: 'request' });
    expect(plan.notes[0]!.body).toContain('@alex.ae');
    expect(plan.notes[0]!.body).toContain('**Assigned to @drew.cse**');
    expect(countWrites(plan)).toBe(2);
    expect(requestNote(after).state).toEqual({
      state: 'assigned',
      openState: 'assigned',
      timeline: [{ state: 'assigned', at: NOW.toISOString(), by: 'scale-bot' }],
      assigned: 'drew.cse',
      reason: 'least-loaded in mm/amr: drew.cse has 0 open (casey.cse has 0)',
      mentioned: 'drew.cse',
      notified: ['drew.cse'],
      digest: expect.stringMatching(/^[0-9a-z]+$/),
      asOf: '2026-11-22',
    });
    expect(plan.engagement).toMatchObject({
      iid: 7,
      open: true,
      state: 'assigned',
      assignee: 'drew.cse',
      rotation: null,
    });
  });

  it('date-relative rules are judged as of the day the description was last read: a later pass writes nothing until it is edited', () => {
    const { after } = settle(issueSnapshot());
    const later = (s: IssueSnapshot) =>
      decide(
        { issue: s, request: readRequest(s, exampleConfig()), related: [], workload: EMPTY, botUsername: 'scale-bot' },
        exampleConfig(),
        new Date('2027-01-05T10:00:00Z'),
        renderNote,
      );
    expect(later(after).notes).toEqual([]);
    const edited = later({ ...after, description: `${after.description}\n` });
    const note = edited.notes.find((n) => n.key === 'request')!;
    expect(readNoteMarker(note.body)!.state.asOf).toBe('2027-01-05');
    expect(note.body).toContain('Renewal on or before 2027-04-05 (within 3 months)');
  });

  it.each([
    ['smbeast-amr-missing-fields.md', 'jordan.ae', 'needs-info', null],
    ['smbwest-amr-public-sector.md', 'jordan.ae', 'not-qualified', null],
    ['smbwest-amr-over-range.md', 'jordan.ae', 'not-qualified', null],
    ['ent-amr-valid.md', 'sam.sal', 'assigned', 'casey.cse'],
    ['mm-amr-valid.md', 'casey.cse', 'not-qualified', null], // a CSE is not an account owner
  ])('%s by %s → engagement::%s, assignee %s', (file, author, state, assignee) => {
    const { plan } = settle(issueSnapshot({ description: sample(file), author, labels: [] }));
    expect(plan.labels.add).toContain(`engagement::${state}`);
    expect(plan.assignees).toEqual(assignee === null ? null : [assignee]);
  });

  it('lists each problem for the author while info is missing', () => {
    const { after } = settle(
      issueSnapshot({ description: sample('smbeast-amr-missing-fields.md'), author: 'jordan.ae' }),
    );
    const body = requestNote(after).body;
    expect(body).toContain('@jordan.ae');
    expect(body).toContain('**Salesforce account**: this is required');
    expect(body).toMatch(/\*\*Renewal date\*\*: "03\/04\/2027" could be/);
    expect(after.assignees).toEqual([]);
  });

  it('round-robin pools record the rotation', () => {
    const description = sample('smbeast-amr-missing-fields.md');
    const valid = sample('mm-amr-valid.md')
      .replace('id=mm_amr version=2', 'id=smbeast_amr version=1')
      .replace('$210k', '$60k');
    const plan = run(issueSnapshot({ description: valid, author: 'jordan.ae', labels: [] }), {
      workload: { open: {}, lastAssigned: { 'smb/amr-east': 'emery.cse' } },
    });
    expect(description).not.toBe(valid);
    expect(plan.assignees).toEqual(['gray.cse']);
    expect(plan.engagement?.rotation).toEqual({ pool: 'smb/amr-east', username: 'gray.cse' });
  });
});

describe('decide: edits over time', () => {
  it('invalid, then fixed by an edit: needs-info goes, the CSE is assigned and told once in a new note', () => {
    const first = settle(issueSnapshot({ description: sample('mm-amr-valid.md').replace('Northwind Traders', '') }));
    expect(first.after.labels).toContain('engagement::needs-info');
    const fixed = settle({ ...first.after, description: sample('mm-amr-valid.md') });
    expect(fixed.plan.labels.add).toContain('engagement::assigned');
    expect(fixed.plan.labels.remove).toContain('engagement::needs-info');
    expect(fixed.plan.assignees).toEqual(['drew.cse']);
    expect(fixed.plan.notes.map((n) => [n.action, n.key])).toEqual([
      ['update', 'request'],
      ['create', 'assigned-drew.cse'],
    ]);
    expect(fixed.plan.notes[1]!.body).toContain('@drew.cse');
    // Editing again (the customer's name) rewrites the note but keeps the assignment and tells nobody again.
    const again = settle({
      ...fixed.after,
      description: fixed.after.description.replace('Northwind Traders', 'Northwind Traders Inc.'),
    });
    expect(again.plan.assignees).toBeNull();
    expect(again.plan.notes.map((n) => [n.action, n.key])).toEqual([['update', 'request']]);
    expect(again.plan.notes[0]!.body).not.toContain('@drew.cse');
  });

  it("keeps a person's assignment and never re-routes it", () => {
    const { plan } = settle(issueSnapshot({ assignees: ['gray.cse'] }));
    expect(plan.assignees).toBeNull();
    expect(plan.labels.add).toContain('engagement::assigned');
    expect(plan.notes[0]!.body).toContain('**Assigned to gray.cse** — assigned by a person');
  });

  it("keeps the bot's own assignment when the workload changes", () => {
    const { after } = settle(issueSnapshot());
    const plan = run(after, { workload: { open: { 'drew.cse': 9 }, lastAssigned: {} } });
    expect(isEmptyPlan(plan)).toBe(true);
  });

  it('a manager override lets a not-qualified request through', () => {
    const s = issueSnapshot({
      description: sample('smbwest-amr-public-sector.md'),
      author: 'jordan.ae',
      labels: ['qualification::override'],
    });
    const { plan } = settle(s);
    expect(plan.labels.add).toContain('engagement::assigned');
    expect(plan.assignees).toEqual(['finley.cse']);
  });

  it('leaves lifecycle states (accepted and later) and their assignee alone', () => {
    const { plan } = settle(
      issueSnapshot({ labels: ['engagement::accepted', 'segment::mm', 'region::amr'], assignees: ['casey.cse'] }),
    );
    expect(plan.labels.add).not.toContain('engagement::assigned');
    expect(plan.labels.remove).toEqual([]);
    expect(plan.assignees).toBeNull();
  });

  it('does nothing on a closed issue', () => {
    expect(isEmptyPlan(run(issueSnapshot({ state: 'closed' })))).toBe(true);
  });

  it('removes stale managed labels (old priority, wrong form) but never unmanaged ones', () => {
    const { plan } = settle(
      issueSnapshot({ labels: ['priority::low', 'form::ent_amr', 'customer-success', 'engagement::new'] }),
    );
    expect(plan.labels.remove).toEqual(expect.arrayContaining(['priority::low', 'form::ent_amr', 'engagement::new']));
    expect(plan.labels.remove).not.toContain('customer-success');
  });
});

describe('decide: issues that are not requests', () => {
  it('explains once and labels', () => {
    const { plan, after } = settle(issueSnapshot({ description: 'Please help Acme with CI', labels: [] }));
    expect(plan.labels.add).toEqual(['engagement::not-a-request']);
    expect(plan.notes).toHaveLength(1);
    expect(
      requestNote({
        ...after,
        botNotes: after.botNotes.map((n) => ({ ...n, key: n.key === 'not-a-request' ? 'request' : n.key })),
      }).body,
    ).toContain('scale_engagement_request_mm_amr');
  });

  it("leaves the bot's own issues (reports, reminders) alone, even made from no template", () => {
    const plan = run(
      issueSnapshot({ description: '# Scale engagement report 2026-W47', labels: ['scale-bot::operations'] }),
    );
    expect(isEmptyPlan(plan)).toBe(true);
    expect(plan.summary[0]).toMatch(/bot's own issues/);
  });

  it.each([
    ['task', 'a task, not an issue: left alone'],
    ['incident', 'an incident, not an issue: left alone'],
    ['test_case', 'a test case, not an issue: left alone'],
  ])(
    'leaves a %s alone (the issues API serves them too), even one made from a request template',
    (issueType, summary) => {
      const plan = run(issueSnapshot({ description: sample('mm-amr-valid.md'), labels: [], issueType }));
      expect(isEmptyPlan(plan)).toBe(true);
      expect(plan.summary).toEqual([summary]);
    },
  );

  it('leaves a request moved to another project alone: GitLab closes the old issue, which is no closing by hand', () => {
    const { after } = settle(issueSnapshot());
    const moved = {
      ...after,
      state: 'closed' as const,
      closedBy: 'harper.mgr',
      closedAt: '2026-11-23T09:00:00Z',
      movedTo: 777,
    };
    const plan = run(moved);
    expect(isEmptyPlan(plan)).toBe(true);
    expect(plan.summary).toEqual(['moved to another project (issue id 777): left alone']);
    // Without moved_to_id the same closing is judged as one by hand.
    const { movedTo: _movedTo, ...closedByHand } = moved;
    expect(isEmptyPlan(run(closedByHand))).toBe(false);
  });

  it('handles an issue whose type GitLab states as "issue" like one whose type is not given', () => {
    const typed = run(issueSnapshot({ description: sample('mm-amr-valid.md'), labels: [], issueType: 'issue' }));
    expect(typed).toEqual(run(issueSnapshot({ description: sample('mm-amr-valid.md'), labels: [] })));
    expect(isEmptyPlan(typed)).toBe(false);
  });

  it('ignores them when configured to', () => {
    const raw = yaml.load(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), { schema: yaml.CORE_SCHEMA }) as Record<
      string,
      any
    >;
    raw.intake.nonRequest = 'ignore';
    const compiled = compileConfig(raw);
    if (!compiled.ok) throw new Error('config');
    expect(isEmptyPlan(run(issueSnapshot({ description: 'hello', labels: [] }), {}, compiled.config))).toBe(true);
  });
});

describe('decide: repeat and duplicate requests', () => {
  const other = (iid: number, overrides: Partial<RelatedIssue> = {}): RelatedIssue => ({
    iid,
    title: `Earlier request ${iid}`,
    account: requestAccount(
      readRequest({ description: sample('mm-amr-valid.md'), labels: [] }, exampleConfig()),
      exampleConfig(),
    ),
    state: 'closed',
    labels: [],
    webUrl: `https://gitlab.example/sales/requests/-/issues/${iid}`,
    createdAt: '2026-05-01T00:00:00Z',
    ...overrides,
  });

  it('flags another open request for the same account and links it by URL', () => {
    const { plan } = settle(issueSnapshot(), { related: [other(3, { state: 'opened' })] });
    expect(plan.labels.add).toContain('possible-duplicate');
    expect(plan.notes[0]!.body).toContain('(https://gitlab.example/sales/requests/-/issues/3)');
    expect(plan.notes[0]!.body).not.toMatch(/#3\b/);
  });

  it('asks for a follow-up pass on the other request only while it lacks the flag (no ping-pong)', () => {
    expect(run(issueSnapshot(), { related: [other(3, { state: 'opened' })] }).followUps).toEqual([3]);
    expect(
      run(issueSnapshot(), { related: [other(3, { state: 'opened', labels: ['possible-duplicate'] })] }).followUps,
    ).toEqual([]);
    expect(run(issueSnapshot(), { related: [other(3, { state: 'closed' })] }).followUps).toEqual([]);
  });

  it('ignores related issues about another account', () => {
    const different = other(3, {
      state: 'opened',
      account: requestAccount(
        readRequest(
          { description: sample('mm-amr-valid.md').replace('0014M00001lAbCdQAK', '0014M00001lZzZzQAK'), labels: [] },
          exampleConfig(),
        ),
        exampleConfig(),
      ),
    });
    const { plan } = settle(issueSnapshot(), { related: [different] });
    expect(plan.labels.add).not.toContain('possible-duplicate');
  });

  it('reaches the engagement limit with 3 earlier requests in 12 months (older ones do not count)', () => {
    const related = [other(1), other(2), other(3, { createdAt: '2025-06-01T00:00:00Z' })];
    expect(run(issueSnapshot(), { related }).labels.add).toContain('engagement::assigned');
    const { plan } = settle(issueSnapshot(), {
      related: [...related, other(4, { createdAt: '2026-10-01T00:00:00Z' })],
    });
    expect(plan.labels.add).toContain('engagement::limit-reached');
    expect(plan.assignees).toEqual(['drew.cse']);
    expect(plan.notes[0]!.body).toContain('Engagement limit reached');
  });
});

describe("decide: copies of the bot's notes", () => {
  it('two passes at once left two request notes: the later copy is deleted, the oldest kept and updated', () => {
    const once = settle(issueSnapshot()).after;
    const note = requestNote(once);
    const copy = { ...note, id: note.id + 50, body: note.body.replace('drew.cse', 'casey.cse') };
    const reply = { id: note.id + 60, key: 'reply-7', body: '<!-- scale-bot:reply-7 -->\nhi', state: {} };
    const twice = { ...once, botNotes: [copy, ...once.botNotes, reply, { ...reply, id: note.id + 61 }] };
    const { plan, after } = settle(twice);
    expect(plan.deleteNotes).toEqual([
      { key: 'request', noteId: note.id + 50 },
      { key: 'reply-7', noteId: note.id + 61 },
    ]);
    expect(plan.notes).toEqual([]);
    expect(countWrites(plan)).toBe(2);
    expect(after.botNotes.map((n) => n.id)).toEqual([note.id, note.id + 60]);
  });

  it('the note remembers one CSE but the bot (another pass) assigned another: the issue is the truth', () => {
    const once = settle(issueSnapshot()).after;
    expect(once.assignees).toEqual(['drew.cse']);
    const raced = { ...once, assignees: ['casey.cse'], assignedBy: { 'casey.cse': 'scale-bot' } };
    const { plan, after } = settle(raced);
    expect(plan.assignees).toBeNull();
    expect(requestNote(after).state).toMatchObject({ assigned: 'casey.cse' });
    expect(requestNote(after).body).toContain('**Assigned to casey.cse**');
    expect(requestNote(after).body).not.toContain('drew.cse');
    // casey.cse was never told by a note the bot kept: told once, in a note of its own.
    const told = plan.notes.filter((n) => n.action === 'create');
    expect(told).toHaveLength(1);
    expect(told[0]!.body).toContain('@casey.cse');
  });

  it('a moved issue is left alone, copies included', () => {
    const once = settle(issueSnapshot()).after;
    const copy = { ...requestNote(once), id: requestNote(once).id + 50 };
    expect(isEmptyPlan(run({ ...once, movedTo: 999, botNotes: [...once.botNotes, copy] }))).toBe(true);
  });
});

describe('decide: user text can never act in GitLab', () => {
  it('a customer named "/close @all #1" is echoed inert', () => {
    const description = sample('mm-amr-valid.md').replace('Northwind Traders', '/close @all #1 ~urgent');
    const { plan } = settle(issueSnapshot({ description }));
    const body = plan.notes[0]!.body;
    for (const line of body.split('\n')) expect(line.trimStart().startsWith('/')).toBe(false);
    const mentions = [...body.matchAll(/(?<![\w])@([A-Za-z0-9_][A-Za-z0-9_.-]*)/g)].map((m) => m[1]);
    expect(mentions.sort()).toEqual(['alex.ae', 'drew.cse']);
    expect(body).not.toMatch(/#1\b|~urgent/);
  });

  it('a customer name with pipes and links keeps the tracker table to its columns and makes no link', () => {
    const description = sample('mm-amr-valid.md').replace(
      'Northwind Traders',
      'Acme | col | ![img](http://evil/x.png) [Verify](https://evil)',
    );
    const { after } = settle(issueSnapshot({ description, assignees: ['drew.cse'], labels: ['engagement::assigned'] }));
    const body = after.botNotes.find((n) => n.key === 'request')!.body;
    const header = body.split('\n').find((l) => l.startsWith('| Customer |'))!;
    const row = body.split('\n')[body.split('\n').indexOf(header) + 2]!;
    // Cells split on pipes that are not escaped by an odd run of backslashes.
    const cells = (line: string) => line.split(/(?<!\\)(?:\\\\)*\|/).length;
    expect(cells(row)).toBe(cells(header));
    expect(row).toContain('Acme \\| col \\|');
    expect(body).not.toMatch(/(?<!\\)\[(?:img|Verify)(?<!\\)\]\(/);
  });
});

describe('decide: the engagement lifecycle', () => {
  let eventId = 1000;
  /** A person replaces the engagement label, as GitLab records it (add event, scoped removal). */
  function relabel(s: IssueSnapshot, state: string, by: string, at = '2026-11-22T11:00:00Z'): IssueSnapshot {
    const labels = [...s.labels.filter((l) => !l.startsWith('engagement::')), `engagement::${state}`];
    const events = [
      ...(s.labelEvents ?? []),
      { id: eventId++, user: by, createdAt: at, label: `engagement::${state}`, action: 'add' as const },
    ];
    return { ...s, labels, labelEvents: events };
  }
  const assigned = () => settle(issueSnapshot()).after;
  const tick = (s: IssueSnapshot, items: string[]) => ({
    ...s,
    botNotes: s.botNotes.map((n) =>
      n.key === 'request' ? { ...n, body: items.reduce((b, i) => b.replace(`- [ ] ${i}`, `- [x] ${i}`), n.body) } : n,
    ),
  });
  const ALL = [
    'CTA created',
    'Call held',
    'Call logged as an activity on the account timeline',
    'Follow-up email sent (it triggers the CSAT survey)',
  ];

  it('the assigned CSE accepts: the tracker gains the CTA record and the checklist', () => {
    const { plan, after } = settle(relabel(assigned(), 'accepted', 'drew.cse'));
    expect(plan.labels).toEqual({ add: [], remove: [] });
    const body = requestNote(after).body;
    expect(body).toContain('| Name | Northwind Traders - Ad-Hoc Scale CSE Engagement Request |');
    expect(body).toContain('| Company | Northwind Traders |');
    expect(body).toContain('| Type | Digital Journey |');
    expect(body).toContain('| Reason | Other Digital Journey Reason |');
    expect(body).toContain('| Priority | high |');
    expect(body).toContain('| Playbook | One-Off Scale CSM Outreach |');
    for (const item of ALL) expect(body).toContain(`- [ ] ${item}`);
    expect(body).toMatch(/2026-11-22 11:00 — accepted \(drew\.cse\)/);
    expect(requestNote(after).state).toMatchObject({ state: 'accepted' });
  });

  it.each([
    ['the author accepts', 'accepted', 'alex.ae', /only the assigned CSE or a CSE of the covering pool or a manager/],
    ['completed before accepted', 'completed', 'drew.cse', /cannot go from `assigned` to `completed`/],
    ['a CSE of another pool accepts', 'accepted', 'emery.cse', /only the assigned CSE/],
  ])('reverts a refused move (%s) and tells the person why and what to do instead', (_name, state, by, reason) => {
    const { plan, after } = settle(relabel(assigned(), state, by));
    expect(plan.labels.add).toEqual(['engagement::assigned']);
    expect(plan.labels.remove).toEqual([`engagement::${state}`]);
    const refusal = plan.notes.find((n) => n.key.startsWith('refused-'))!;
    expect(refusal.body).toContain(`@${by}, the move to \`${state}\` was undone:`);
    expect(refusal.body).toMatch(reason);
    expect(refusal.body).toContain('Instead,');
    expect(requestNote(after).state).toMatchObject({ state: 'assigned' });
  });

  it('moves made while the bot was down are replayed in order from the label history', () => {
    const both = relabel(
      relabel(assigned(), 'accepted', 'drew.cse', '2026-11-22T11:00:00Z'),
      'scheduled',
      'drew.cse',
      '2026-11-22T12:00:00Z',
    );
    const { plan, after } = settle(both);
    expect(plan.labels).toEqual({ add: [], remove: [] });
    expect(plan.notes.map((n) => n.key)).toEqual(['request']);
    const body = requestNote(after).body;
    expect(body).toMatch(/11:00 — accepted \(drew\.cse\)\n- 2026-11-22 12:00 — scheduled \(drew\.cse\)/);
    // A refused step in the middle stops the replay there.
    const sneaky = relabel(
      relabel(assigned(), 'accepted', 'alex.ae', '2026-11-22T11:00:00Z'),
      'scheduled',
      'drew.cse',
      '2026-11-22T12:00:00Z',
    );
    const refused = settle(sneaky);
    expect(refused.plan.labels.add).toEqual(['engagement::assigned']);
    expect(refused.plan.notes.find((n) => n.key.startsWith('refused-'))!.body).toContain('@alex.ae');
  });

  it('a manager may accept for the CSE', () => {
    const { plan } = settle(relabel(assigned(), 'accepted', 'harper.mgr'));
    expect(plan.labels).toEqual({ add: [], remove: [] });
    expect(plan.notes.map((n) => n.key)).toEqual(['request']);
  });

  it('completed with the checklist open stays open and lists what is missing; complete closes with a summary', () => {
    const accepted = settle(relabel(assigned(), 'accepted', 'drew.cse', '2026-11-22T11:00:00Z')).after;
    const partly = tick(accepted, ALL.slice(0, 2));
    const first = settle(relabel(partly, 'completed', 'drew.cse', '2026-11-25T15:00:00Z'));
    expect(first.plan.stateEvent).toBeNull();
    const blocked = first.plan.notes.find((n) => n.key.startsWith('incomplete-'))!;
    expect(blocked.body).toContain('@drew.cse');
    expect(blocked.body).toContain('Call logged as an activity on the account timeline; Follow-up email sent');
    // The bot's note (its memory) deleted by a person: the state is adopted from the label history
    // as entered then, and the reminder already posted is not posted again.
    const forgotten = run({ ...first.after, botNotes: first.after.botNotes.filter((n) => n.key !== 'request') });
    expect(forgotten.notes.map((n) => n.key)).toEqual(['request']);
    expect(forgotten.notes[0]!.body).toContain('2026-11-25 15:00 — completed (drew.cse)');
    // The bot never unticks: the two ticked items stay ticked in its re-rendered note.
    expect(requestNote(first.after).body).toContain('- [x] CTA created');
    expect(requestNote(first.after).body).toContain('- [ ] Follow-up email sent');
    const done = settle(tick(first.after, ALL));
    expect(done.plan.stateEvent).toBe('close');
    const summary = done.plan.notes.find((n) => n.key === 'completion')!;
    expect(summary.body).toContain('@alex.ae');
    expect(summary.body).toMatch(/Time to assign: \d+ (h|min)/);
    expect(summary.body).toMatch(/Time to complete: 3 days 6 h/);
  });

  it('records when each checklist item was first seen ticked, keeps that time, and forgets an untick', () => {
    const accepted = settle(relabel(assigned(), 'accepted', 'drew.cse', '2026-11-22T11:00:00Z')).after;
    const at = (s: IssueSnapshot, iso: string) => {
      const plan = decide(
        { issue: s, request: readRequest(s, exampleConfig()), related: [], workload: EMPTY, botUsername: 'scale-bot' },
        exampleConfig(),
        new Date(iso),
        renderNote,
      );
      return { plan, after: applied(s, plan) };
    };
    const first = at(tick(accepted, ['CTA created', 'Call held']), '2026-11-24T09:00:00Z');
    expect(requestNote(first.after).state.ticks).toEqual({
      'CTA created': '2026-11-24T09:00:00.000Z',
      'Call held': '2026-11-24T09:00:00.000Z',
    });
    // A later pass keeps the first-seen times and writes nothing.
    expect(at(first.after, '2026-11-25T09:00:00Z').plan.notes).toEqual([]);
    const more = at(tick(first.after, ['Follow-up email sent (it triggers the CSAT survey)']), '2026-11-26T09:00:00Z');
    expect(requestNote(more.after).state.ticks).toMatchObject({
      'Call held': '2026-11-24T09:00:00.000Z',
      'Follow-up email sent (it triggers the CSAT survey)': '2026-11-26T09:00:00.000Z',
    });
    const unticked = {
      ...more.after,
      botNotes: more.after.botNotes.map((n) =>
        n.key === 'request' ? { ...n, body: n.body.replace('- [x] Call held', '- [ ] Call held') } : n,
      ),
    };
    expect(requestNote(at(unticked, '2026-11-27T09:00:00Z').after).state.ticks).not.toHaveProperty('Call held');
  });

  it('a box a person unticks stays unticked: the bot never re-ticks, and completion waits for it', () => {
    const accepted = settle(relabel(assigned(), 'accepted', 'drew.cse', '2026-11-22T11:00:00Z')).after;
    const ticked = settle(tick(accepted, ALL)).after;
    const unticked = {
      ...ticked,
      botNotes: ticked.botNotes.map((n) =>
        n.key === 'request' ? { ...n, body: n.body.replace('- [x] Call held', '- [ ] Call held') } : n,
      ),
    };
    const { plan, after } = settle(relabel(unticked, 'completed', 'drew.cse', '2026-11-24T10:00:00Z'));
    expect(plan.stateEvent).toBeNull();
    expect(requestNote(after).body).toContain('- [ ] Call held');
    expect(requestNote(after).body).toContain('- [x] CTA created');
    expect(plan.notes.find((n) => n.key.startsWith('incomplete-'))!.body).toContain('Still open: Call held.');
  });

  it('declined: asks for a reason, then closes with it for the author (made inert)', () => {
    const declined = relabel(assigned(), 'declined', 'drew.cse');
    const asked = settle(declined);
    expect(asked.plan.stateEvent).toBeNull();
    expect(asked.plan.notes.find((n) => n.key.startsWith('decline-reason-'))!.body).toContain(
      '@drew.cse, please reply with the reason',
    );
    const replied = {
      ...asked.after,
      humanNotes: [
        {
          id: 55,
          author: 'drew.cse',
          body: 'Customer is moving to @all /close #12 support',
          createdAt: '2026-11-22T12:00:00Z',
        },
      ],
    };
    const closed = settle(replied);
    expect(closed.plan.stateEvent).toBe('close');
    const note = closed.plan.notes.find((n) => n.key === 'declined-55')!;
    expect(note.body).toContain('@alex.ae, drew.cse declined this request. Reason: Customer is moving to');
    expect(note.body).not.toMatch(/(?<!\w)@all|#12/);
  });

  it('the author withdraws: closed', () => {
    const { plan } = settle(relabel(assigned(), 'withdrawn', 'alex.ae'));
    expect(plan.stateEvent).toBe('close');
  });

  it('closed by hand before completion: closed-incomplete with what was missing; by the author: withdrawn; never reopened', () => {
    const accepted = settle(relabel(assigned(), 'accepted', 'drew.cse')).after;
    const byCse = settle({
      ...accepted,
      state: 'closed',
      closedBy: 'drew.cse',
      closedAt: '2026-11-23T09:00:00Z',
      labelEvents: accepted.labelEvents ?? [],
    });
    expect(byCse.plan.labels.add).toEqual(['engagement::closed-incomplete']);
    expect(byCse.plan.stateEvent).toBeNull();
    expect(byCse.plan.notes.find((n) => n.key.startsWith('closed-'))!.body).toContain(
      'still open on the checklist: CTA created',
    );
    const byAuthor = settle({
      ...assigned(),
      state: 'closed',
      closedBy: 'alex.ae',
      closedAt: '2026-11-23T09:00:00Z',
      labelEvents: [],
    });
    expect(byAuthor.plan.labels.add).toEqual(['engagement::withdrawn']);
  });

  it('closed by the bot while waiting on its author: closed-incomplete, no "closed by hand" note; reopened: needs-info again', () => {
    const waiting = settle(
      issueSnapshot({ description: sample('smbeast-amr-missing-fields.md'), author: 'jordan.ae' }),
    ).after;
    expect(waiting.labels).toContain('engagement::needs-info');
    const closed = settle({
      ...waiting,
      state: 'closed',
      closedBy: 'scale-bot',
      closedAt: '2026-11-23T09:00:00Z',
      labelEvents: [],
    });
    expect(closed.plan.labels.add).toEqual(['engagement::closed-incomplete']);
    expect(closed.plan.notes.filter((n) => n.action === 'create')).toEqual([]);
    const { plan } = settle({ ...closed.after, state: 'opened', closedBy: null, closedAt: null });
    expect(plan.labels.add).toEqual(['engagement::needs-info']);
  });

  it('reopened: back to the last open state', () => {
    const accepted = settle(relabel(assigned(), 'accepted', 'drew.cse')).after;
    const closed = settle({
      ...accepted,
      state: 'closed',
      closedBy: 'drew.cse',
      closedAt: '2026-11-23T09:00:00Z',
      labelEvents: accepted.labelEvents ?? [],
    }).after;
    const { plan } = settle({ ...closed, state: 'opened', closedBy: null, closedAt: null });
    expect(plan.labels.add).toEqual(['engagement::accepted']);
    expect(plan.labels.remove).toEqual(['engagement::closed-incomplete']);
  });

  it('all engagement labels removed: the recorded state comes back', () => {
    const accepted = settle(relabel(assigned(), 'accepted', 'drew.cse')).after;
    const { plan } = settle({ ...accepted, labels: accepted.labels.filter((l) => !l.startsWith('engagement::')) });
    expect(plan.labels.add).toEqual(['engagement::accepted']);
  });

  it('adopts the state of a request the bot never tracked', () => {
    const { plan } = settle(
      issueSnapshot({ labels: ['engagement::scheduled', 'segment::mm', 'region::amr'], assignees: ['casey.cse'] }),
    );
    expect(plan.labels.add).not.toContain('engagement::assigned');
    expect(plan.labels.remove).toEqual([]);
  });
});

describe('decide: stable notes', () => {
  it('a CSE skipped at capacity stays in the note on later passes (a redundant event writes nothing)', () => {
    const busy: Workload = { open: { 'drew.cse': 8 }, lastAssigned: {} };
    const { plan, after } = settle(issueSnapshot(), { workload: busy });
    expect(plan.assignees).toEqual(['casey.cse']);
    expect(plan.notes[0]!.body).toMatch(/skipped drew\.cse/);
    // Later the workload changes and an unrelated edit arrives: nothing to write.
    expect(isEmptyPlan(run({ ...after, title: 'renamed' }, { workload: EMPTY }))).toBe(true);
  });
});

describe('decide: commands in comments', () => {
  let noteId = 500;
  const comment = (
    s: IssueSnapshot,
    author: string,
    body: string,
    at = '2026-11-22T12:00:00Z',
    internal = false,
  ): IssueSnapshot => ({
    ...s,
    humanNotes: [...s.humanNotes, { id: noteId++, author, body, createdAt: at, ...(internal ? { internal } : {}) }],
  });
  const assigned = () => settle(issueSnapshot()).after;
  const reply = (plan: Plan) => plan.notes.find((n) => n.key.startsWith('reply-'));

  it('help lists the commands, in one reply to the person who asked', () => {
    const { plan } = settle(comment(assigned(), 'alex.ae', '@scale-bot help'));
    expect(reply(plan)!.body).toContain('@alex.ae, the commands I understand');
    expect(reply(plan)!.body).toContain('`decline <reason>`');
    expect(reply(plan)!.body).toContain(
      "`done <item>` — tick an item of the tracker's checklist: `cta`, `call held`, `call logged`, `email` or `all`",
    );
  });

  it('accept by the assigned CSE moves the request; an edited comment does not run again', () => {
    const accepted = settle(comment(assigned(), 'drew.cse', 'Thanks!\n@scale-bot accept'));
    expect(accepted.plan.labels.add).toEqual(['engagement::accepted']);
    expect(accepted.plan.labels.remove).toEqual(['engagement::assigned']);
    expect(reply(accepted.plan)!.body).toContain('@drew.cse, done: the request is now `accepted`');
    expect(requestNote(accepted.after).body).toContain('| Type | Digital Journey |');
    const edited = {
      ...accepted.after,
      humanNotes: accepted.after.humanNotes.map((n) => ({ ...n, body: `${n.body}\n(edited)` })),
    };
    expect(isEmptyPlan(run(edited))).toBe(true);
  });

  it('a command the person may not give is refused with why and what instead', () => {
    const { plan } = settle(comment(assigned(), 'alex.ae', '@scale-bot accept'));
    expect(plan.labels).toEqual({ add: [], remove: [] });
    expect(reply(plan)!.body).toMatch(
      /@alex\.ae, I did not accept this request: only the assigned CSE .*Instead, ask the assigned CSE to do it\./,
    );
  });

  it('ignores commands in code blocks and quotes, and from other mentions', () => {
    const quoted = comment(
      assigned(),
      'drew.cse',
      '```\n@scale-bot accept\n```\n> @scale-bot accept\nping @scale-botx accept',
    );
    expect(isEmptyPlan(run(quoted))).toBe(true);
  });

  it('schedule needs a clear date; decline carries its reason to the author and closes', () => {
    const accepted = settle(comment(assigned(), 'drew.cse', '@scale-bot accept')).after;
    const vague = settle(comment(accepted, 'drew.cse', '@scale-bot schedule 03/04/2027'));
    expect(vague.plan.labels.add).toEqual([]);
    expect(reply(vague.plan)!.body).toContain('give the date of the call');
    const scheduled = settle(comment(vague.after, 'drew.cse', '@scale-bot schedule 2026-12-03'));
    expect(scheduled.plan.labels.add).toEqual(['engagement::scheduled']);
    expect(reply(scheduled.plan)!.body).toContain('(call on 2026-12-03)');
    const declined = settle(
      comment(
        scheduled.after,
        'drew.cse',
        '@scale-bot decline Customer chose Premium support instead',
        '2026-11-23T08:00:00Z',
      ),
    );
    expect(declined.plan.stateEvent).toBe('close');
    expect(declined.plan.notes.find((n) => n.key.startsWith('declined-'))!.body).toContain(
      '@alex.ae, drew.cse declined this request. Reason: Customer chose Premium support instead',
    );
  });

  it('complete with the checklist open: one reminder to the CSE, never repeated, never addressed to the bot', () => {
    const accepted = settle(comment(assigned(), 'drew.cse', '@scale-bot accept')).after;
    const first = settle(comment(accepted, 'drew.cse', '@scale-bot complete', '2026-11-25T15:00:00Z'));
    const reminders = first.plan.notes.filter((n) => n.key.startsWith('incomplete-'));
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.body).toContain('@drew.cse, the engagement stays open until the checklist');
    // GitLab's label history now holds the label the bot applied for the command.
    const botEvent: LabelEvent = {
      id: 9001,
      user: 'scale-bot',
      createdAt: '2026-11-25T15:00:05Z',
      label: 'engagement::completed',
      action: 'add',
    };
    const later: Array<[string, IssueSnapshot]> = [
      ['label history not loaded', { ...first.after, title: 'renamed', labelEvents: null }],
      [
        "label history with the bot's own event",
        { ...first.after, title: 'renamed', labelEvents: [...(first.after.labelEvents ?? []), botEvent] },
      ],
    ];
    for (const [what, s] of later) expect(isEmptyPlan(run(s)), what).toBe(true);
    // The bot's request note (its memory) deleted by a person: whatever is re-posted addresses a person, not the bot.
    const forgotten = run({
      ...first.after,
      botNotes: first.after.botNotes.filter((n) => n.key !== 'request'),
      labelEvents: [botEvent],
    });
    // (A command shown in a code span, as the tracker's next step does, mentions nobody.)
    for (const n of forgotten.notes) expect(n.body.replace(/`[^`\n]*`/g, '')).not.toMatch(/@scale-bot\b/);
  });

  it('a command on a closed request is answered, and not run when the issue is reopened later', () => {
    const closed = settle({
      ...assigned(),
      state: 'closed',
      closedBy: 'harper.mgr',
      closedAt: '2026-11-22T11:00:00Z',
      labelEvents: [],
    }).after;
    const asked = settle(comment(closed, 'harper.mgr', '@scale-bot reassign @casey.cse'));
    expect(asked.plan.assignees).toBeNull();
    expect(reply(asked.plan)!.body).toMatch(
      /^<!-- .* -->\n@harper\.mgr, I did not reassign this request: it is closed \(`[a-z-]+`\)\. Reopen it first\.$/,
    );
    const reopened = run({ ...asked.after, state: 'opened', closedBy: null, closedAt: null });
    expect(reopened.assignees).toBeNull();
    expect(reply(reopened)).toBeUndefined();
  });

  it('a command in an internal note is answered internally, and a reason given there is passed on internally', () => {
    const accepted = settle(comment(assigned(), 'drew.cse', '@scale-bot accept', '2026-11-22T12:00:00Z', true));
    expect(reply(accepted.plan)).toMatchObject({ action: 'create', internal: true });
    const declined = settle(
      comment(
        accepted.after,
        'drew.cse',
        '@scale-bot decline Legal dispute, keep this quiet',
        '2026-11-23T08:00:00Z',
        true,
      ),
    );
    const notes = declined.plan.notes.filter(
      (n) => n.action === 'create' && (n.key.startsWith('declined-') || n.key.startsWith('reply-')),
    );
    expect(notes).toHaveLength(2);
    for (const n of notes) expect(n).toMatchObject({ internal: true });
    expect(
      declined.plan.notes
        .filter((n) => n.body.includes('Legal dispute'))
        .every((n) => n.action === 'create' && n.internal),
    ).toBe(true);
    // The same in a public comment: public answers.
    const open = settle(
      comment(
        accepted.after,
        'drew.cse',
        '@scale-bot decline Customer chose Premium support instead',
        '2026-11-23T08:00:00Z',
      ),
    );
    for (const n of open.plan.notes) expect(n.action === 'create' && n.internal).toBeFalsy();
  });

  it('reassign hands the request on (named, or the next CSE of the pool) and tells the new CSE once', () => {
    const named = settle(comment(assigned(), 'drew.cse', '@scale-bot reassign @casey.cse'));
    expect(named.plan.assignees).toEqual(['casey.cse']);
    expect(named.plan.notes.find((n) => n.key === 'assigned-casey.cse')!.body).toContain('@casey.cse');
    expect(reply(named.plan)!.body).toContain('done: the request is now assigned to casey.cse');
    expect(requestNote(named.after).body).toContain('**Assigned to casey.cse** — reassigned by drew.cse');
    const next = settle(comment(assigned(), 'drew.cse', '@scale-bot reassign'));
    expect(next.plan.assignees).toEqual(['casey.cse']);
  });

  it.each([
    ['alex.ae', '@scale-bot reassign @casey.cse', 'only the assigned CSE or a manager'],
    ['drew.cse', '@scale-bot reassign @alex.ae', 'alex.ae is not a CSE'],
    ['drew.cse', '@scale-bot reassign @drew.cse', 'already assigned to drew.cse'],
  ])('refuses a reassign by %s: %s', (author, body, why) => {
    const { plan } = settle(comment(assigned(), author, body));
    expect(plan.assignees).toBeNull();
    expect(reply(plan)!.body).toContain(why);
  });

  describe('done / undo: the checklist by command (a Reporter cannot tick the bot note)', () => {
    const CALL_HELD = 'Call held';
    const accepted = () => settle(comment(assigned(), 'drew.cse', '@scale-bot accept')).after;
    const body = (s: IssueSnapshot) => requestNote(s).body;

    it('ticks the named items in the tracker, keeps them on later passes and records when they were ticked', () => {
      const { plan, after } = settle(
        comment(accepted(), 'drew.cse', '@scale-bot done call held', '2026-11-23T16:30:00Z'),
      );
      expect(reply(plan)!.body).toContain('@drew.cse, ticked: Call held. Still open: CTA created; Call logged');
      expect(body(after)).toContain('- [x] Call held');
      expect(body(after)).toContain('- [ ] CTA created');
      // The follow-up reminder counts from the comment, not from when the bot got to it.
      expect(requestNote(after).state.ticks).toEqual({ [CALL_HELD]: '2026-11-23T16:30:00Z' });
      // An unrelated later pass re-renders the note with the tick (settle checked it writes nothing).
      expect(body(applied(after, run({ ...after, title: 'renamed' })))).toContain('- [x] Call held');
    });

    it('completed with items open, then the last ones done by command: closed with the summary in that pass', () => {
      const partly = settle(comment(accepted(), 'drew.cse', '@scale-bot done cta, call held')).after;
      const completed = settle(comment(partly, 'drew.cse', '@scale-bot complete', '2026-11-24T10:00:00Z'));
      expect(completed.plan.stateEvent).toBeNull();
      const { plan } = settle(
        comment(completed.after, 'drew.cse', '@scale-bot done logged, followup', '2026-11-25T10:00:00Z'),
      );
      expect(plan.stateEvent).toBe('close');
      expect(plan.notes.map((n) => n.key)).toEqual(expect.arrayContaining(['completion']));
      expect(reply(plan)!.body).toContain('The checklist is complete.');
      // `complete` and the last `done` read in one pass: closed at once, no "still open" reminder first.
      const both = comment(
        comment(partly, 'drew.cse', '@scale-bot complete'),
        'drew.cse',
        '@scale-bot done logged, email',
      );
      const once = settle(both).plan;
      expect(once.stateEvent).toBe('close');
      expect(once.notes.filter((n) => n.key.startsWith('incomplete-'))).toEqual([]);
    });

    it('undo unticks, and done on a ticked item says so', () => {
      const ticked = settle(comment(accepted(), 'drew.cse', '@scale-bot done all')).after;
      for (const item of ['CTA created', CALL_HELD]) expect(body(ticked)).toContain(`- [x] ${item}`);
      const undone = settle(comment(ticked, 'harper.mgr', '@scale-bot undo Call held'));
      expect(body(undone.after)).toContain('- [ ] Call held');
      expect(requestNote(undone.after).state.ticks).not.toHaveProperty(CALL_HELD);
      expect(reply(undone.plan)!.body).toContain('@harper.mgr, unticked: Call held.');
      const again = settle(comment(undone.after, 'drew.cse', '@scale-bot done cta'));
      expect(reply(again.plan)!.body).toContain('Already ticked: CTA created. Still open: Call held.');
      expect(body(again.after)).toContain('- [ ] Call held');
    });

    it.each([
      [
        'the author',
        accepted,
        'alex.ae',
        '@scale-bot done cta',
        'only the assigned CSE, a CSE of the covering pool or a manager',
      ],
      [
        'before acceptance',
        assigned,
        'drew.cse',
        '@scale-bot done cta',
        'the checklist starts once the request is accepted (it is `assigned`)',
      ],
      [
        'an ambiguous name',
        accepted,
        'drew.cse',
        '@scale-bot done call',
        '"call" could be `call held` or `call logged`',
      ],
      [
        'an unknown item',
        accepted,
        'drew.cse',
        '@scale-bot done @all /close',
        'is not an item of the checklist; name one of `cta`, `call held`, `call logged`, `email` or `all`',
      ],
      ['no item', accepted, 'drew.cse', '@scale-bot done', 'name the item, one of `cta`'],
    ])('refuses (%s) with a reply saying why, and ticks nothing', (_name, start, author, text, why) => {
      const { plan, after } = settle(comment(start(), author, text));
      expect(reply(plan)!.body).toContain(why);
      expect(reply(plan)!.body).not.toMatch(/(?<![\w`])@all|^\/close/m);
      expect(body(after)).not.toContain('- [x]');
    });

    it('on a closed request: answered, not run', () => {
      const closed = settle({
        ...accepted(),
        state: 'closed',
        closedBy: 'harper.mgr',
        closedAt: '2026-11-22T13:00:00Z',
        labelEvents: [],
      }).after;
      const { plan, after } = settle(comment(closed, 'drew.cse', '@scale-bot done cta'));
      expect(reply(plan)!.body).toContain(
        'I did not tick anything: the request is closed (`closed-incomplete`). Reopen it first.',
      );
      expect(body(after)).toContain('- [ ] CTA created');
    });
  });

  it("the tracker's next step is true in every state, closed ones included", () => {
    const nextStep = (s: IssueSnapshot) => /\*\*Next step:\*\* (.*)/.exec(requestNote(s).body)![1]!;
    expect(nextStep(assigned())).toMatch(/^The assigned CSE accepts/);
    const accepted = settle(comment(assigned(), 'drew.cse', '@scale-bot accept')).after;
    expect(nextStep(accepted)).toContain('`@scale-bot done <item>`');
    const completed = settle(comment(accepted, 'drew.cse', '@scale-bot complete')).after;
    expect(nextStep(completed)).toMatch(/^Tick the items still open below/);
    const closedStates: Array<[string, IssueSnapshot, RegExp]> = [
      [
        'completed',
        settle(comment(completed, 'drew.cse', '@scale-bot done all')).after,
        /^None: the engagement is complete and the request closed\./,
      ],
      [
        'declined',
        settle(comment(accepted, 'drew.cse', '@scale-bot decline Budget frozen')).after,
        /^None: the request was declined and closed/,
      ],
      [
        'withdrawn',
        settle(comment(accepted, 'alex.ae', '@scale-bot withdraw')).after,
        /^None: the request was withdrawn and closed/,
      ],
      [
        'closed-incomplete',
        settle({
          ...accepted,
          state: 'closed',
          closedBy: 'drew.cse',
          closedAt: '2026-11-23T09:00:00Z',
          labelEvents: [],
        }).after,
        /^None: the request was closed before completion/,
      ],
    ];
    for (const [state, s, step] of closedStates) {
      expect(s.labels, state).toContain(`engagement::${state}`);
      expect(nextStep(s), state).toMatch(step);
      expect(requestNote(s).body, state).not.toContain('tick each item when done');
    }
  });

  it('an unknown command gets the help', () => {
    const { plan } = settle(comment(assigned(), 'drew.cse', '@scale-bot frobnicate now'));
    expect(reply(plan)!.body).toContain('I do not know `frobnicate`');
  });
});
