import { requestAccount } from '../domain/account.js';
import { readNoteMarker } from '../domain/bot-note-marker.js';
import type { Config } from '../domain/config.js';
import { needsLabelEvents } from '../domain/decide.js';
import type { ParsedRequest } from '../domain/request.js';
import type { IssueRecord, IssueSnapshot, LabelEvent, RelatedIssue } from '../domain/snapshot.js';
import type { ApiIssue, ApiLabelEvent, ApiNote } from './api-schemas.js';
import type { AccountIndex } from './account-index.js';
import type { GitLabClient } from './client.js';

/** An issue as the domain reads it. */
export function issueRecord(issue: ApiIssue): IssueRecord {
  return {
    iid: issue.iid,
    title: issue.title,
    description: issue.description ?? '',
    state: issue.state,
    author: issue.author.username,
    labels: issue.labels,
    assignees: issue.assignees.map((a) => a.username),
    webUrl: issue.web_url,
    createdAt: issue.created_at,
    updatedAt: issue.updated_at ?? issue.created_at,
    closedAt: issue.closed_at ?? null,
    ...(issue.issue_type ? { issueType: issue.issue_type } : {}),
    ...(issue.moved_to_id ? { movedTo: issue.moved_to_id } : {}),
  };
}

function toSnapshotBase(
  issue: ApiIssue,
): Omit<IssueSnapshot, 'botNotes' | 'humanNotes' | 'assignedBy' | 'labelEvents'> {
  const { updatedAt: _updatedAt, ...base } = issueRecord(issue);
  return { ...base, closedBy: issue.closed_by?.username ?? null };
}

/**
 * The issue as GitLab has it now, with the bot's own notes (found by author and hidden marker) and
 * people's comments. The label history costs a call, so it is loaded only when the workflow needs
 * to know who changed the state.
 */
export async function loadSnapshot(
  client: GitLabClient,
  iid: number,
  botUsername: string,
  config: Config,
): Promise<IssueSnapshot> {
  const [issue, notes] = await Promise.all([client.issue(iid), client.allNotes(iid)]);
  return snapshotOf(client, issue, notes, botUsername, config);
}

/** The snapshot of an issue already read (from a listing, say), with its notes. */
export async function snapshotOf(
  client: GitLabClient,
  issue: ApiIssue,
  notes: readonly ApiNote[],
  botUsername: string,
  config: Config,
): Promise<IssueSnapshot> {
  const iid = issue.iid;
  const bot = botUsername.toLowerCase();
  const botNotes: IssueSnapshot['botNotes'] = [];
  const humanNotes: IssueSnapshot['humanNotes'] = [];
  const assignedBy: Record<string, string> = {};
  for (const n of notes) {
    if (n.system) {
      // "assigned to @a and @b", "assigned to @a and unassigned @c": only the assigned part counts.
      const m = /^assigned to (.*?)(?: and unassigned .*)?$/.exec(n.body.trim());
      if (m)
        for (const u of m[1]!.matchAll(/@([A-Za-z0-9_][A-Za-z0-9_.-]*)/g))
          assignedBy[u[1]!.replace(/\.$/, '').toLowerCase()] = n.author.username;
      continue;
    }
    if (n.author.username.toLowerCase() === bot) {
      const marker = readNoteMarker(n.body);
      if (marker) botNotes.push({ id: n.id, key: marker.key, body: n.body, state: marker.state });
    } else {
      const internal = n.internal ?? n.confidential ?? false;
      humanNotes.push({
        id: n.id,
        author: n.author.username,
        body: n.body,
        createdAt: n.created_at ?? '',
        ...(internal ? { internal } : {}),
      });
    }
  }
  const base = toSnapshotBase(issue);
  const labelEvents = needsLabelEvents({ ...base, botNotes }, config)
    ? labelEventsOf(await client.labelEvents(iid))
    : null;
  return { ...base, botNotes, humanNotes, assignedBy, labelEvents };
}

/** GitLab's resource label events as the domain reads them. */
export function labelEventsOf(events: readonly ApiLabelEvent[]): LabelEvent[] {
  return events.map((e) => ({
    id: e.id,
    user: e.user?.username ?? null,
    createdAt: e.created_at,
    label: e.label?.name ?? null,
    action: e.action,
  }));
}

/**
 * Other requests about the same account (any state), from the account index (prepared): no search.
 * `request` is the snapshot's description as the pass read it.
 */
export function relatedOf(
  accounts: AccountIndex,
  snapshot: IssueSnapshot,
  request: ParsedRequest,
  config: Config,
): RelatedIssue[] {
  if (snapshot.state !== 'opened') return [];
  const account = requestAccount(request, config);
  return account === null ? [] : accounts.related(account, snapshot.iid);
}
