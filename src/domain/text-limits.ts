/**
 * GitLab's limits on the text the bot writes. GitLab refuses a longer note or description (422),
 * and then the person the bot was answering hears nothing at all.
 * - A note: `validates :note, length: { maximum: Gitlab::Database::MAX_TEXT_SIZE_LIMIT }`
 *   (app/models/concerns/notes/active_record.rb; `MAX_TEXT_SIZE_LIMIT = 1_000_000` in lib/gitlab/database.rb).
 * - An issue description: `DESCRIPTION_LENGTH_MAX = 1.megabyte`, checked on create and on update
 *   (app/models/concerns/issuable.rb).
 * Rails counts characters (code points); a JS string's `length` counts UTF-16 units, never fewer,
 * so a text whose `length` is within a limit is within GitLab's.
 */
export const NOTE_MAX_CHARS = 1_000_000;
export const DESCRIPTION_MAX_CHARS = 1_048_576;

/**
 * The first `max` characters of `text` and an ellipsis, or `text` when it is not longer. Counts
 * code points, so a surrogate pair (an emoji) is never split.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * The last guard before GitLab: `text` when it is within `max` characters, else cut at a line
 * break and told so. Every echoed value is already cut to its field's limit and every list
 * bounded, so this only acts on what no limit foresaw. A line of neutralized text stays whole
 * (nothing user-made can start at the cut), and the bot's marker, on the first line, is kept.
 */
export function fitText(text: string, max: number): string {
  if (text.length <= max) return text;
  const notice = `\n\n*(Cut here: GitLab takes at most ${max.toLocaleString('en-US')} characters.)*`;
  const room = max - notice.length;
  const lineEnd = text.lastIndexOf('\n', room);
  let end = lineEnd > 0 ? lineEnd : room;
  // Never split a surrogate pair.
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? '')) end -= 1;
  return `${text.slice(0, end)}${notice}`;
}
