import type { Config } from '../domain/config.js';
import { requestHistory, type IssueRecord, type RequestHistory } from '../domain/request-history.js';
import type { ApiIssue } from '../gitlab/api-schemas.js';
import type { GitLabClient } from '../gitlab/client.js';
import { labelEventsOf } from '../gitlab/snapshot.js';
import type { Progress } from './progress.js';

/**
 * Reads request issues page by page and turns each into a small RequestHistory (its label events
 * fetched alongside, the requester pacing and retrying every call), so memory holds histories, not
 * descriptions and events. Listings may overlap: an issue is read once.
 */

export type IssueFilter = Parameters<GitLabClient['issuePages']>[0];

export interface LoadedRequest<T> {
  history: RequestHistory;
  extra: T;
}

export interface LoadOptions<T> {
  config: Config;
  today: string;
  progress: Progress;
  /** What else to read for one request (its bot note, say); called after its history is built. */
  extra?: (history: RequestHistory, issue: ApiIssue) => Promise<T>;
}

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
  };
}

export async function loadRequests<T = null>(client: GitLabClient, filters: readonly IssueFilter[], options: LoadOptions<T>): Promise<Array<LoadedRequest<T>>> {
  const { config } = options;
  const seen = new Set<number>();
  const out: Array<LoadedRequest<T>> = [];
  const operations = config.labels.operations.toLowerCase();
  for (const filter of filters) {
    for await (const page of client.issuePages(filter)) {
      if (page.total !== null && filters.length === 1) options.progress.total(page.total);
      const fresh = page.issues.filter((i) => !seen.has(i.iid) && !i.labels.some((l) => l.toLowerCase() === operations));
      for (const i of page.issues) seen.add(i.iid);
      const loaded = await Promise.all(
        fresh.map(async (issue) => {
          const events = await client.labelEvents(issue.iid);
          const history = requestHistory(issueRecord(issue), labelEventsOf(events), config, options.today);
          if (!history.form) return null;
          return { history, extra: options.extra ? await options.extra(history, issue) : (null as T) };
        }),
      );
      for (const l of loaded) if (l) out.push(l);
      options.progress.advance(page.issues.length, out.length);
    }
  }
  options.progress.done(out.length);
  return out;
}
