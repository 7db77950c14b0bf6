import type { Config } from '../domain/config.js';
import { requestHistory, type RequestHistory } from '../domain/request-history.js';
import { isPlainIssue } from '../domain/snapshot.js';
import type { ApiIssue } from '../gitlab/api-schemas.js';
import type { GitLabClient, IssueFilter } from '../gitlab/client.js';
import { issueRecord, labelEventsOf } from '../gitlab/snapshot.js';
import pLimit from 'p-limit';
import type { Progress } from './progress.js';

/**
 * Reads request issues page by page and turns each into a small RequestHistory (its label events
 * fetched alongside, the requester pacing and retrying every call), so memory holds histories, not
 * descriptions and events. Listings may overlap: an issue is read once.
 */


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


/** Calls in flight at once: enough to hide GitLab's latency, few enough to be a polite client. */
const IN_FLIGHT = 16;
/** Pages listed ahead of the per-issue reads: bounds the descriptions held in memory. */
const PAGES_AHEAD = 2;

export async function loadRequests<T = null>(client: GitLabClient, filters: readonly IssueFilter[], options: LoadOptions<T>): Promise<Array<LoadedRequest<T>>> {
  const { config } = options;
  const seen = new Set<number>();
  const out: Array<LoadedRequest<T>> = [];
  const operations = config.labels.operations.toLowerCase();
  const limit = pLimit(IN_FLIGHT);
  const read = async (issue: ApiIssue): Promise<void> => {
    const events = await client.labelEvents(issue.iid);
    const history = requestHistory(issueRecord(issue), labelEventsOf(events), config, options.today);
    if (history.form) out.push({ history, extra: options.extra ? await options.extra(history, issue) : (null as T) });
  };
  // The next page is listed while this one's issues are read; a failure anywhere fails the load.
  const pending: Array<Promise<void>> = [];
  for (const filter of filters) {
    for await (const page of client.issuePages(filter)) {
      if (page.total !== null && filters.length === 1) options.progress.total(page.total);
      const fresh = page.issues.filter(
        // Moved issues belong to the project they moved to; the bot's own issues are not requests.
        (i) => !seen.has(i.iid) && isPlainIssue(i.issue_type) && !i.moved_to_id && !i.labels.some((l) => l.toLowerCase() === operations),
      );
      for (const i of page.issues) seen.add(i.iid);
      const count = page.issues.length;
      const done = Promise.all(fresh.map((issue) => limit(() => read(issue)))).then(() => options.progress.advance(count, out.length));
      // Handled here so a failure waiting its turn in `pending` is not an unhandled rejection; the
      // await below still throws it.
      done.catch(() => undefined);
      pending.push(done);
      while (pending.length > PAGES_AHEAD) await pending.shift();
    }
  }
  await Promise.all(pending);
  options.progress.done(out.length);
  return out;
}
