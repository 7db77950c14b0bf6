import { readNoteMarker } from '../domain/bot-note-marker.js';
import type { Config } from '../domain/config.js';
import { REQUEST_NOTE } from '../domain/request-note.js';
import { labelHistoryHasReverts } from '../domain/effective-timeline.js';
import { requestHistory, type NotesRead, type RequestHistory } from '../domain/request-history.js';
import { STALE_STATES } from '../domain/sla.js';
import { isPlainIssue, type LabelEvent } from '../domain/snapshot.js';
import type { State } from '../domain/workflow.js';
import type { ApiIssue, ApiNote } from '../gitlab/api-schemas.js';
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
  /**
   * States in which an open request's notes are read for its people's last activity (default: the
   * stale service level's; the remind job adds needs-info).
   */
  activityStates?: readonly State[];
  /** What else to read for one request; called after its history is built, with its notes when they were read. */
  extra?: (history: RequestHistory, issue: ApiIssue, notes: ApiNote[] | null) => Promise<T>;
}

/**
 * Whether a request's notes must be read: its label history shows a move the bot refused (the
 * bot's record then says what really happened), or it is open in one of `activityStates`, whose
 * clock runs from people's last activity. Everything else is told by the label history alone, so a report over
 * 10,000 requests reads notes for the few that need them, not for all.
 */
export function needsNotes(
  issue: ApiIssue,
  events: readonly LabelEvent[],
  config: Config,
  activityStates: readonly State[] = STALE_STATES,
): boolean {
  const prefix = `${config.labels.engagement}::`.toLowerCase();
  const state = issue.labels
    .find((l) => l.toLowerCase().startsWith(prefix))
    ?.slice(prefix.length)
    .toLowerCase();
  if (issue.state === 'opened' && state !== undefined && (activityStates as readonly string[]).includes(state))
    return true;
  return labelHistoryHasReverts({
    labelEvents: events,
    scope: config.labels.engagement,
    botUsername: config.bot.username,
  });
}

/** What the history needs of the notes: the bot's record and when people wrote. */
export function notesRead(notes: readonly ApiNote[], botUsername: string): NotesRead {
  const bot = botUsername.toLowerCase();
  const byBot = (n: ApiNote) => n.author.username.toLowerCase() === bot;
  // The oldest request note is the one the bot keeps (a later copy is a crash's leftover).
  const record = notes
    .filter((n) => byBot(n) && !n.system && readNoteMarker(n.body)?.key === REQUEST_NOTE)
    .sort((a, b) => a.id - b.id)[0];
  const timeline = record ? readNoteMarker(record.body)!.state.timeline : undefined;
  return {
    recorded: Array.isArray(timeline) ? timeline : null,
    // System notes by a person record their own changes ("changed the description": GitLab's
    // Issuable::CommonSystemNotesService), so they count as activity, like comments.
    humanNoteTimes: notes.filter((n) => !byBot(n) && n.created_at !== undefined).map((n) => n.created_at!),
  };
}

/** Calls in flight at once: enough to hide GitLab's latency, few enough to be a polite client. */
const IN_FLIGHT = 16;
/** Pages listed ahead of the per-issue reads: bounds the descriptions held in memory. */
const PAGES_AHEAD = 2;

export async function loadRequests<T = null>(
  client: GitLabClient,
  filters: readonly IssueFilter[],
  options: LoadOptions<T>,
): Promise<Array<LoadedRequest<T>>> {
  const { config } = options;
  const seen = new Set<number>();
  const out: Array<LoadedRequest<T>> = [];
  const operations = config.labels.operations.toLowerCase();
  const limit = pLimit(IN_FLIGHT);
  const read = async (issue: ApiIssue): Promise<void> => {
    const events = labelEventsOf(await client.labelEvents(issue.iid));
    const notes = needsNotes(issue, events, config, options.activityStates) ? await client.allNotes(issue.iid) : null;
    const history = requestHistory(
      issueRecord(issue),
      events,
      config,
      options.today,
      notes ? notesRead(notes, config.bot.username) : null,
    );
    if (history.form)
      out.push({ history, extra: options.extra ? await options.extra(history, issue, notes) : (null as T) });
  };
  // The next page is listed while this one's issues are read; a failure anywhere fails the load.
  const pending: Array<Promise<void>> = [];
  for (const filter of filters) {
    for await (const page of client.issuePages(filter)) {
      if (page.total !== null && filters.length === 1) options.progress.total(page.total);
      const fresh = page.issues.filter(
        // Moved issues belong to the project they moved to; the bot's own issues are not requests.
        (i) =>
          !seen.has(i.iid) &&
          isPlainIssue(i.issue_type) &&
          !i.moved_to_id &&
          !i.labels.some((l) => l.toLowerCase() === operations),
      );
      for (const i of page.issues) seen.add(i.iid);
      const count = page.issues.length;
      const done = Promise.all(fresh.map((issue) => limit(() => read(issue)))).then(() =>
        options.progress.advance(count, out.length),
      );
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
