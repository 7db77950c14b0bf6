/**
 * GitLab's limits on the text the bot writes. GitLab refuses a longer note or description (400),
 * and then the person the bot was answering hears nothing at all.
 * - A note: `validates :note, length: { maximum: Gitlab::Database::MAX_TEXT_SIZE_LIMIT }`
 *   (app/models/concerns/notes/active_record.rb; `MAX_TEXT_SIZE_LIMIT = 1_000_000` in lib/gitlab/database.rb).
 *   Rails counts characters (code points); a JS string's `length` counts UTF-16 units, never fewer,
 *   so a text whose `length` is within the limit is within GitLab's.
 * - An issue description: `validates :description, bytesize: { maximum: -> { DESCRIPTION_LENGTH_MAX } }`
 *   with `DESCRIPTION_LENGTH_MAX = 1.megabyte` (app/models/concerns/issuable.rb,
 *   app/validators/bytesize_validator.rb): UTF-8 bytes, so `—` or an escaped `&` (`&amp;` and a
 *   zero-width space) weighs more than its characters.
 */
export const NOTE_MAX_CHARS = 1_000_000;
export const DESCRIPTION_MAX_BYTES = 1_048_576;

/** The length of `text` in UTF-8 (Ruby's `bytesize`); a lone surrogate counts as U+FFFD does, 3 bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && /[\uDC00-\uDFFF]/.test(text[i + 1] ?? '')) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

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

/**
 * The last guard before GitLab for a description: `text` when it is within `maxBytes` of UTF-8,
 * else cut at a line break and told so (as `fitText` does for notes, in characters).
 */
export function fitDescription(text: string, maxBytes: number = DESCRIPTION_MAX_BYTES): string {
  if (utf8Length(text) <= maxBytes) return text;
  const notice = `\n\n*(Cut here: GitLab takes at most ${maxBytes.toLocaleString('en-US')} bytes.)*`;
  const room = maxBytes - utf8Length(notice);
  let end = 0;
  let bytes = 0;
  for (const point of text) {
    bytes += utf8Length(point);
    if (bytes > room) break;
    end += point.length;
  }
  const lineEnd = text.lastIndexOf('\n', end);
  return `${text.slice(0, lineEnd > 0 ? lineEnd : end)}${notice}`;
}
