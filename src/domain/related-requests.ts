import { subMonths } from 'date-fns';
import type { Config } from './config.js';
import type { IssueSnapshot, RelatedIssue } from './snapshot.js';

/** Other requests about the same account: open ones are possible duplicates; recent ones count to the limit. */

export interface RelatedRequest {
  iid: number;
  title: string;
  url: string;
  state: 'opened' | 'closed';
  createdAt: string;
  labels: string[];
}

export function relatedRequests(
  related: readonly RelatedIssue[],
  issue: IssueSnapshot,
  key: string | null,
  config: Config,
  now: Date,
): { duplicates: RelatedRequest[]; history: RelatedRequest[] } {
  if (key === null) return { duplicates: [], history: [] };
  const since = subMonths(now, config.intake.historyMonths).toISOString();
  const duplicates: RelatedRequest[] = [];
  const history: RelatedRequest[] = [];
  for (const other of related) {
    if (other.iid === issue.iid || other.account !== key) continue;
    const entry = {
      iid: other.iid,
      title: other.title,
      url: other.webUrl,
      state: other.state,
      createdAt: other.createdAt,
      labels: other.labels,
    };
    if (other.state === 'opened') duplicates.push(entry);
    if (other.createdAt >= since && other.createdAt <= issue.createdAt) history.push(entry);
  }
  const byIid = (a: RelatedRequest, b: RelatedRequest) => a.iid - b.iid;
  return { duplicates: duplicates.sort(byIid), history: history.sort(byIid) };
}
