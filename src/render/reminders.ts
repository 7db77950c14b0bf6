import { noteMarker } from '../domain/bot-note-marker.js';
import { neutralizeInline } from '../domain/markdown-safety.js';
import type { ReminderMessage } from '../domain/reminders.js';
import type { WaitingStep } from '../domain/waiting-on-author.js';
import { fitText, NOTE_MAX_CHARS } from '../domain/text-limits.js';
import { renderTemplate } from './handlebars.js';

/**
 * The note `scale-bot remind` posts for one person: the marker listing the reminder keys it sends
 * (read back by `sentKeys`), the mention that notifies them, one bullet per overdue step.
 *
 * Requests are linked by URL, never by `#iid`: the note lives on the reminders issue, where `#iid`
 * would add a cross-reference note to every request. Titles are user text: neutralized (brackets
 * included), so they cannot close the link early.
 */

const USERNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Link text: neutralized, which also escapes `[`/`]`, so the title cannot end the link or start another. */
function linkText(text: string): string {
  const safe = neutralizeInline(text);
  return safe === '' ? 'untitled request' : safe;
}

/** A link destination that cannot end the link early or break the line. */
function linkUrl(url: string): string {
  return url.trim().replace(/[\s()<>[\]`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

const businessDays = (n: number) => `${n} business day${n === 1 ? '' : 's'}`;

/** A username as GitLab spells them is a single mention; anything else is shown, never mentioned. */
const mentionOf = (username: string) => (USERNAME.test(username) ? `@${username}` : neutralizeInline(username));

/** `2026-12-10` in UTC: a day, not a time, is what the author needs. */
const day = (iso: string) => iso.slice(0, 10);

/**
 * The note on a request waiting on its author: the reminder, or the closing note with how to
 * reopen. Only the author's username comes from outside, as a mention; no quick action can start
 * a line (`/reopen` sits inside a sentence, in a code span).
 */
export function waitingNoteBody(step: WaitingStep): string {
  const text =
    step.action === 'remind'
      ? `${mentionOf(step.author)}, this request has been waiting for more information from you for ${businessDays(step.businessDays)}: the bot's note above lists what is missing. ` +
        `Please update the description. If nothing happens by ${day(step.at)}, the bot closes the request; you can reopen it whenever you are ready.`
      : `${mentionOf(step.author)}, this request waited for more information for ${businessDays(step.businessDays)}, with no answer since the reminder of ${day(step.at)}, so the bot has closed it. ` +
        'To take it up again, reopen the issue (the **Reopen issue** button, or a comment with `/reopen`) and update the description: the bot checks it again.';
  return `${noteMarker(step.key)}\n${text}`;
}

export function reminderNoteBody(message: ReminderMessage): string {
  const mention = mentionOf(message.username);
  const count = new Set(message.items.map((i) => i.webUrl)).size;
  const body = renderTemplate('notes/reminders.md.hbs', {
    mention,
    count,
    plural: count !== 1,
    items: message.items.map((item) => ({
      title: linkText(item.title),
      url: linkUrl(item.webUrl),
      text: neutralizeInline(item.text),
      // The bot's own words from the configuration, commands and labels in code spans: kept as written.
      action: item.action,
      late: item.businessDaysLate > 0 ? businessDays(item.businessDaysLate) : '',
    })),
  }).trim();
  return fitText(`${noteMarker(message.markerKey, { sent: message.keys })}\n${body}`, NOTE_MAX_CHARS);
}
