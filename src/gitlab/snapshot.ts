import { accountSearchTerm } from '../domain/account.js';
import { readNoteMarker } from '../domain/bot-note-marker.js';
import type { Config } from '../domain/config.js';
import { parse } from '../domain/parse.js';
import type { IssueSnapshot, RelatedIssue } from '../domain/snapshot.js';
import type { ApiIssue } from './api-schemas.js';
import type { GitLabClient } from './client.js';

function toSnapshotBase(issue: ApiIssue): Omit<IssueSnapshot, 'botNotes'> {
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
  };
}

/** The issue as GitLab has it now, with the bot's own notes (found by author and hidden marker). */
export async function loadSnapshot(client: GitLabClient, iid: number, botUsername: string): Promise<IssueSnapshot> {
  const [issue, notes] = await Promise.all([client.issue(iid), client.allNotes(iid)]);
  const bot = botUsername.toLowerCase();
  const botNotes = notes.flatMap((n) => {
    if (n.system || n.author.username.toLowerCase() !== bot) return [];
    const marker = readNoteMarker(n.body);
    return marker ? [{ id: n.id, key: marker.key, body: n.body, state: marker.state }] : [];
  });
  return { ...toSnapshotBase(issue), botNotes };
}

/** Other issues that mention the same account: one search call, only when the request names one. */
export async function loadRelated(client: GitLabClient, snapshot: IssueSnapshot, config: Config): Promise<RelatedIssue[]> {
  if (snapshot.state !== 'opened') return [];
  const request = parse(snapshot.description, config.catalog, { labels: snapshot.labels });
  if (!request.form) return [];
  const term = accountSearchTerm(request, config);
  if (term === null) return [];
  const found = await client.searchIssues(term);
  return found
    .filter((i) => i.iid !== snapshot.iid)
    .map((i) => ({
      iid: i.iid,
      title: i.title,
      description: i.description ?? '',
      state: i.state,
      labels: i.labels,
      webUrl: i.web_url,
      createdAt: i.created_at,
    }));
}
