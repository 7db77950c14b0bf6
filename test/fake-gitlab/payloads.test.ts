import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  hookIsoTime,
  hookUtcTime,
  issueHookPayload,
  noteHookPayload,
  webhookEventName,
  webhookHeaders,
  type IssueInput,
  type LabelInput,
  type ProjectInput,
  type UserInput,
} from '../../src/fake-gitlab/payloads.js';

/**
 * The builders against the examples documented in webhook_events.md (copied verbatim into
 * test/fixtures/gitlab/) and the delivery headers of the hook events API example.
 */

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'gitlab');
const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve(FIXTURES, name), 'utf8')) as Record<string, Record<string, unknown>>;
const issueDoc = fixture('issue-hook-open.json');
const noteDoc = fixture('note-hook-issue.json');
const headersDoc = fixture('webhook-request-headers.json');

const keys = (value: unknown) => Object.keys(value as object).sort();
const firstOf = (value: unknown) => (value as unknown[])[0];

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const ISO_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UTC_SECONDS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;

const project: ProjectInput = {
  id: 1,
  name: 'Scale Engagement Requests',
  namespace: 'Sales',
  path_with_namespace: 'sales/ser',
  web_url: 'http://gitlab.test/sales/ser',
};
const root: UserInput = { id: 1, username: 'root', name: 'Administrator' };
const casey: UserInput = { id: 12, username: 'casey.cse', name: 'Casey Kim' };
const label = (id: number, title: string): LabelInput => ({
  id,
  title,
  color: '#6699cc',
  description: null,
  project_id: 1,
  created_at: '2026-01-02T03:04:05.678Z',
  updated_at: '2026-01-02T03:04:05.678Z',
});
const issue: IssueInput = {
  id: 5001,
  iid: 1,
  project_id: 1,
  title: 'Acme',
  description: 'Hello',
  state: 'opened',
  author_id: 1,
  assignees: [casey],
  labels: [label(101, 'engagement::new')],
  created_at: new Date('2026-03-04T05:06:07.890Z'),
  updated_at: new Date('2026-03-04T05:06:07.890Z'),
  url: 'http://gitlab.test/sales/ser/-/issues/1',
};

describe('issueHookPayload', () => {
  const payload = issueHookPayload({
    action: 'update',
    issue,
    project,
    user: root,
    changes: {
      updated_by_id: { previous: null, current: 1 },
      updated_at: { previous: '2026-03-04T05:06:07Z', current: '2026-03-04T05:07:00Z' },
      labels: { previous: [label(101, 'engagement::new')], current: [label(102, 'engagement::accepted')] },
      description: { previous: 'Hello', current: 'Hello again' },
      assignees: { previous: [], current: [casey] },
    },
  });

  it('has the documented top-level keys', () => {
    expect(keys(payload)).toEqual(keys(issueDoc));
    expect(payload).toMatchObject({ object_kind: 'issue', event_type: 'issue' });
  });

  it('has the documented object_attributes, without the incident-only escalation fields', () => {
    const documented = keys(issueDoc.object_attributes).filter((k) => !k.startsWith('escalation_'));
    // closed_at is not in the example, but GitLab's IssueBuilder sends it.
    expect(keys(payload.object_attributes)).toEqual([...documented, 'closed_at'].sort());
    expect(payload.object_attributes).toMatchObject({
      id: 5001,
      iid: 1,
      action: 'update',
      state: 'opened',
      state_id: 1,
      assignee_ids: [12],
      assignee_id: 12,
      author_id: 1,
      type: 'Issue',
    });
    expect(payload.object_attributes.created_at).toMatch(ISO_SECONDS);
    expect(payload.object_attributes.updated_at).toBe('2026-03-04T05:06:07Z');
  });

  it('shapes user, project, repository, labels and assignees like the example', () => {
    expect(keys(payload.user)).toEqual(keys(issueDoc.user));
    expect(keys(payload.project)).toEqual(keys(issueDoc.project));
    expect(keys(payload.repository)).toEqual(keys(issueDoc.repository));
    expect(keys(payload.labels[0])).toEqual(keys(firstOf(issueDoc.labels)));
    expect(payload.labels[0]?.created_at).toMatch(ISO_SECONDS);
    // The example's assignees lack id and email; GitLab's User#hook_attrs sends them.
    expect(keys(payload.assignees?.[0])).toEqual(expect.arrayContaining(keys(firstOf(issueDoc.assignees))));
    expect(payload.assignee?.username).toBe('casey.cse');
  });

  it('reports changes as {previous, current}: label objects, strings, user objects, UTC times', () => {
    const { changes } = payload;
    expect(keys(changes.labels?.previous[0])).toEqual(
      keys(firstOf((issueDoc.changes as Record<string, Record<string, unknown>>).labels!.previous)),
    );
    expect(changes.labels?.current.map((l) => l.title)).toEqual(['engagement::accepted']);
    expect(changes.description).toEqual({ previous: 'Hello', current: 'Hello again' });
    expect(changes.assignees?.current.map((u) => u.username)).toEqual(['casey.cse']);
    expect(changes.updated_at?.previous).toMatch(UTC_SECONDS);
    expect(changes.updated_by_id).toEqual({ previous: null, current: 1 });
  });

  it('omits assignees when there are none, and flags confidential issues', () => {
    const unassigned = issueHookPayload({ action: 'open', issue: { ...issue, assignees: [] }, project, user: root });
    expect(unassigned).not.toHaveProperty('assignees');
    expect(unassigned).not.toHaveProperty('assignee');
    expect(unassigned.changes).toEqual({});
    const secret = issueHookPayload({ action: 'open', issue, project, user: root, confidential: true });
    expect(secret.event_type).toBe('confidential_issue');
    expect(webhookEventName(secret)).toBe('Confidential Issue Hook');
    expect(webhookEventName(payload)).toBe('Issue Hook');
  });

  it('round-trips through JSON unchanged (plain data only)', () => {
    expect(JSON.parse(JSON.stringify(payload))).toEqual(payload);
  });
});

describe('noteHookPayload', () => {
  const note = {
    id: 70001,
    body: 'Looks good',
    author_id: 12,
    created_at: '2026-03-05T10:00:00.123Z',
    updated_at: '2026-03-05T10:00:00.123Z',
    url: `${issue.url}#note_70001`,
  };
  const payload = noteHookPayload({ note, issue, project, user: casey });

  it('has the documented top-level keys', () => {
    expect(keys(payload)).toEqual(keys(noteDoc));
    expect(payload).toMatchObject({ object_kind: 'note', event_type: 'note', project_id: 1 });
  });

  it('has the documented object_attributes, plus what GitLab NoteBuilder adds', () => {
    const ours = keys(payload.object_attributes);
    const documented = keys(noteDoc.object_attributes);
    expect(ours).toEqual(expect.arrayContaining(documented));
    expect(ours.filter((k) => !documented.includes(k)).sort()).toEqual([
      'description',
      'discussion_id',
      'internal',
      'type',
      'updated_by_id',
    ]);
    expect(payload.object_attributes).toMatchObject({
      id: 70001,
      note: 'Looks good',
      noteable_type: 'Issue',
      noteable_id: 5001,
      author_id: 12,
      action: 'create',
      system: false,
    });
    expect(payload.object_attributes.created_at).toBe('2026-03-05 10:00:00 UTC');
  });

  it('carries the issue with iid and labels; its dates in UTC format, label dates with milliseconds', () => {
    // `position` and `branch_name` are long-gone columns still shown in the example.
    const documented = keys(noteDoc.issue).filter((k) => k !== 'position' && k !== 'branch_name');
    expect(keys(payload.issue)).toEqual(expect.arrayContaining(documented));
    expect(payload.issue).toMatchObject({ iid: 1, id: 5001, state: 'opened' });
    expect(payload.issue.created_at).toMatch(UTC_SECONDS);
    expect(keys(payload.issue.labels[0])).toEqual(keys(firstOf(noteDoc.issue?.labels)));
    expect(payload.issue.labels[0]?.created_at).toMatch(ISO_MILLIS);
    expect(keys(payload.project)).toEqual([...keys(noteDoc.project), 'ci_config_path'].sort());
  });

  it('is confidential for internal notes and for notes on confidential issues', () => {
    const internal = noteHookPayload({
      note: { ...note, internal: true },
      issue,
      project,
      user: casey,
      action: 'update',
    });
    expect(internal.event_type).toBe('confidential_note');
    expect(internal.object_attributes.action).toBe('update');
    expect(webhookEventName(internal)).toBe('Confidential Note Hook');
    expect(
      webhookEventName(noteHookPayload({ note, issue: { ...issue, confidential: true }, project, user: casey })),
    ).toBe('Confidential Note Hook');
    expect(webhookEventName(payload)).toBe('Note Hook');
  });
});

describe('webhookHeaders', () => {
  it('sends the documented headers, in GitLab order', () => {
    const headers = webhookHeaders({
      event: 'Issue Hook',
      token: 's3cret',
      uuid: 'event-uuid',
      idempotencyKey: 'key-1',
      instance: 'https://gitlab.example.com',
      webhookUuid: 'hook-uuid',
    });
    expect(Object.keys(headers)).toEqual(Object.keys(headersDoc));
    expect(headers).toMatchObject({
      'Content-Type': 'application/json',
      'Idempotency-Key': 'key-1',
      'X-Gitlab-Event': 'Issue Hook',
      'X-Gitlab-Webhook-UUID': 'hook-uuid',
      'X-Gitlab-Instance': 'https://gitlab.example.com',
      'X-Gitlab-Event-UUID': 'event-uuid',
      'X-Gitlab-Token': 's3cret',
    });
    expect(headers['User-Agent']).toMatch(/^GitLab\/\d+\.\d+\.\d+/);
  });

  it('sends no token header without a secret, and a fresh webhook UUID per call', () => {
    const a = webhookHeaders({ event: 'Note Hook', uuid: 'u', idempotencyKey: 'k', instance: 'http://x' });
    const b = webhookHeaders({ event: 'Note Hook', uuid: 'u', idempotencyKey: 'k', instance: 'http://x' });
    expect(a).not.toHaveProperty('X-Gitlab-Token');
    expect(a['X-Gitlab-Webhook-UUID']).not.toBe(b['X-Gitlab-Webhook-UUID']);
  });
});

describe('time formats', () => {
  it('writes the three documented formats', () => {
    const t = new Date('2013-12-03T17:15:43.250Z');
    expect(hookIsoTime(t)).toBe('2013-12-03T17:15:43Z');
    expect(hookUtcTime(t)).toBe('2013-12-03 17:15:43 UTC');
    expect(hookIsoTime('2013-12-03T17:15:43Z')).toBe('2013-12-03T17:15:43Z');
  });
});
