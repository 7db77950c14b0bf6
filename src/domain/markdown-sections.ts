/**
 * Splits an issue description into heading sections the way a reader sees them: HTML comments
 * (template help) removed, headings inside code fences not counted as headings, and fenced text
 * kept as plain answer text.
 */

export interface Section {
  heading: string;
  /** `normalizeHeading(heading)`, computed once: every lookup compares this. */
  key: string;
  level: number;
  /** Answer lines: comments removed, fence delimiters dropped, fenced content kept verbatim. */
  lines: string[];
}

export interface SplitDescription {
  /** Text before the first heading. */
  preamble: string[];
  sections: Section[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*)$/;

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * A heading's text without the optional closing `#`s and trailing blanks. Why not in the regex: the
 * former `(.*?)(?:[ \t]+#+)?[ \t]*$` backtracked quadratically on long runs of blanks in a heading.
 */
function headingText(raw: string): string {
  let end = raw.length;
  while (end > 0 && isBlank(raw[end - 1])) end--;
  let hashes = end;
  while (hashes > 0 && raw[hashes - 1] === '#') hashes--;
  if (hashes < end && hashes > 0 && isBlank(raw[hashes - 1])) {
    end = hashes;
    while (end > 0 && isBlank(raw[end - 1])) end--;
  }
  return raw.slice(0, end);
}

/** Removes `<!-- … -->` comments, also ones that span lines; an unclosed comment runs to the end. */
function stripComments(text: string): string {
  if (!text.includes('<!--')) return text;
  let out = '';
  let at = 0;
  for (;;) {
    const open = text.indexOf('<!--', at);
    if (open < 0) return out + text.slice(at);
    out += text.slice(at, open);
    const close = text.indexOf('-->', open + 4);
    if (close < 0) return out;
    // Keep the line structure so a comment that spanned lines does not glue two answers together.
    const inner = text.slice(open, close + 3);
    let newlines = '';
    for (let i = inner.indexOf('\n'); i >= 0; i = inner.indexOf('\n', i + 1)) newlines += '\n';
    out += newlines;
    at = close + 3;
  }
}

/** Whether `text` leaves a `<!--` open (scanning the way `stripComments` does). */
function opensComment(text: string): boolean {
  for (let at = 0; ;) {
    const open = text.indexOf('<!--', at);
    if (open < 0) return false;
    const close = text.indexOf('-->', open + 4);
    if (close < 0) return true;
    at = close + 3;
  }
}

export function normalizeNewlines(text: string): string {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return t.includes('\r') ? t.replace(/\r\n?/g, '\n') : t;
}

/** The first character after up to three spaces: only `` ` ``, `~` and `#` can start a fence or heading. */
function leadingMark(line: string): string {
  let i = 0;
  while (i < 3 && line.charCodeAt(i) === 32) i++;
  return line.charAt(i);
}

export function splitSections(description: string): SplitDescription {
  const lines = normalizeNewlines(description).split('\n');
  const preamble: string[] = [];
  const sections: Section[] = [];
  let fence: string | null = null;
  let commentBuffer: string[] | null = null;

  // Lines go to the current section, or to the preamble before the first heading.
  let target = preamble;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const mark = leadingMark(raw);
    const fenceLike = mark === '`' || mark === '~';
    if (fence !== null) {
      const close = fenceLike ? FENCE.exec(raw) : null;
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length && raw.trim() === close[1])
        fence = null;
      else target.push(raw);
      continue;
    }
    if (commentBuffer !== null) {
      // Inside a multi-line comment: collect until it closes, then strip it as one piece.
      commentBuffer.push(raw);
      // Why check the rest: "--> text <!--" closes one comment and opens another; stopping at the first
      // "-->" let the second comment's lines (even "### headings" in it) through as answers.
      const close = raw.indexOf('-->');
      if (close < 0 || opensComment(raw.slice(close + 3))) continue;
      const joined = stripComments(commentBuffer.join('\n'));
      commentBuffer = null;
      for (const l of joined.split('\n')) if (l.trim() !== '') target.push(l);
      continue;
    }
    const open = fenceLike ? FENCE.exec(raw) : null;
    // Why: a backtick fence's info string cannot contain a backtick (CommonMark), so "```Acme```" is
    // inline code; treating it as an opening fence swallowed every heading after it.
    if (open && !(open[1]![0] === '`' && raw.slice(raw.indexOf(open[1]!) + open[1]!.length).includes('`'))) {
      fence = open[1]!;
      continue;
    }
    let line = raw;
    const commentAt = line.indexOf('<!--');
    // The common case, a template's one-line help comment, hides the whole line.
    if (
      commentAt >= 0 &&
      line.trimEnd().endsWith('-->') &&
      line.indexOf('-->', commentAt + 4) === line.lastIndexOf('-->') &&
      line.slice(0, commentAt).trim() === ''
    ) {
      if (line.indexOf('<!--', commentAt + 4) < 0) continue;
    }
    if (commentAt >= 0) {
      if (opensComment(line)) {
        commentBuffer = [line];
        continue;
      }
      line = stripComments(line);
      if (line.trim() === '') continue;
    }
    const heading = (line === raw ? mark : leadingMark(line)) === '#' ? HEADING.exec(line) : null;
    if (heading) {
      const text = headingText(heading[2]!);
      const section: Section = { heading: text, key: normalizeHeading(text), level: heading[1]!.length, lines: [] };
      sections.push(section);
      target = section.lines;
      continue;
    }
    target.push(line);
  }
  if (commentBuffer !== null) {
    // An unclosed comment hides the rest, as GitLab renders it; keep only what came before it.
    // Why stripComments: slicing the first line at its last "<!--" kept earlier closed comments in it.
    for (const l of stripComments(commentBuffer.join('\n')).split('\n')) if (l.trim() !== '') target.push(l);
  }
  return { preamble, sections };
}

/** Heading text compared loosely: case, emphasis, trailing colon, "(required)" and "*" markers ignored. */
const normalized = new Map<string, string>();

export function normalizeHeading(heading: string): string {
  // Headings repeat across requests (they come from the templates): remember recent ones, bounded
  // so arbitrary text cannot grow the cache.
  let hit = normalized.get(heading);
  if (hit === undefined) {
    if (normalized.size >= 4096) normalized.clear();
    normalized.set(heading, (hit = computeNormalized(heading)));
  }
  return hit;
}

function computeNormalized(heading: string): string {
  const t = heading
    .toLowerCase()
    .replace(/[*_`]/g, '')
    .replace(/\((required|optional)\)/g, '');
  // Why a loop rather than /[\s:?.*]+$/: that regex is quadratic on long runs of those characters,
  // so one pasted line of 100k spaces or dots stalled the parser for minutes.
  let end = t.length;
  while (end > 0 && /[\s:?.*]/.test(t[end - 1]!)) end--;
  return t.slice(0, end).replace(/\s+/g, ' ').trim();
}
