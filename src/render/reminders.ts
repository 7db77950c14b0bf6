import { noteMarker } from '../domain/bot-note-marker.js';
import { neutralizeInline } from '../domain/markdown-safety.js';
import type { ReminderMessage } from '../domain/reminders.js';
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

export function reminderNoteBody(message: ReminderMessage): string {
  // A username as GitLab spells them is a single mention; anything else is shown, never mentioned.
  const mention = USERNAME.test(message.username) ? `@${message.username}` : neutralizeInline(message.username);
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
  return `${noteMarker(message.markerKey, { sent: message.keys })}\n${body}`;
}
