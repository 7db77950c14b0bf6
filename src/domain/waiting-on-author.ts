import { markerKey } from './bot-note-marker.js';
import { addBusinessDays, regionCalendar } from './business-days.js';
import type { Config } from './config.js';
import type { RequestHistory } from './request-history.js';

/**
 * Requests waiting on their author (needs-info), as users of stale bots expect: after
 * `sla.needsInfo.days` business days with nothing done by a person, the author is reminded once on
 * the request; `closeAfterDays` business days after that reminder, still with nothing done, the
 * request is closed with a note saying how to reopen it. Anything a person does (a comment, an
 * edit of the description, a label) starts the wait again. Pure: the bot's notes found on the
 * request and `now` are inputs.
 *
 * Once: the reminder and the closing note carry a marker keyed by when the wait began, so a later
 * run finds them and never posts them twice, and a new wait gets a new reminder.
 */

export const WAITING_REMINDER_PREFIX = 'waiting-on-author:';
export const WAITING_CLOSED_PREFIX = 'closed-waiting:';

export interface WaitingRequest {
  history: RequestHistory;
  /** The bot's notes on the request: their marker keys and when they were posted. */
  botNotes: ReadonlyArray<{ key: string; createdAt: string }>;
}

export interface WaitingStep {
  action: 'remind' | 'close';
  iid: number;
  title: string;
  webUrl: string;
  author: string;
  /** The marker key of the note this step posts (the closing note may already be there, if a run stopped before closing). */
  key: string;
  notePosted: boolean;
  /** When the wait began: the later of entering needs-info and the last thing a person did. */
  since: string;
  /** Remind: when it will be closed if nothing happens. Close: when the author was reminded. */
  at: string;
  businessDays: number;
}

const later = (a: string, b: string) => (Date.parse(b) > Date.parse(a) ? b : a);

/** When the current wait on the author began; null when the request is not waiting on its author, or its notes were not read. */
export function waitingSince(h: RequestHistory): string | null {
  if (!h.open || h.state !== 'needs-info' || h.stateSince === null || h.lastHumanActivity === null) return null;
  return later(h.stateSince, h.lastHumanActivity);
}

export function planWaitingOnAuthor(requests: readonly WaitingRequest[], config: Config, now: Date): WaitingStep[] {
  const rule = config.sla.needsInfo;
  if (!rule) return [];
  const steps: WaitingStep[] = [];
  for (const { history: h, botNotes } of requests) {
    const since = waitingSince(h);
    if (since === null) continue;
    const cal = regionCalendar(config, h.region);
    const noteAt = (prefix: string) =>
      botNotes.find((n) => n.key === markerKey(`${prefix}${since}`))?.createdAt ?? null;
    const base = { iid: h.iid, title: h.title, webUrl: h.webUrl, author: h.author, since };
    const reminded = noteAt(WAITING_REMINDER_PREFIX);
    if (reminded === null) {
      if (addBusinessDays(new Date(since), rule.days, cal).getTime() > now.getTime()) continue;
      const closeAt = addBusinessDays(now, rule.closeAfterDays, cal).toISOString();
      steps.push({
        ...base,
        action: 'remind',
        key: markerKey(`${WAITING_REMINDER_PREFIX}${since}`),
        notePosted: false,
        at: closeAt,
        businessDays: rule.days,
      });
    } else if (addBusinessDays(new Date(reminded), rule.closeAfterDays, cal).getTime() <= now.getTime()) {
      const key = markerKey(`${WAITING_CLOSED_PREFIX}${since}`);
      steps.push({
        ...base,
        action: 'close',
        key,
        notePosted: noteAt(WAITING_CLOSED_PREFIX) !== null,
        at: reminded,
        businessDays: rule.days + rule.closeAfterDays,
      });
    }
  }
  return steps.sort((a, b) => a.iid - b.iid);
}
