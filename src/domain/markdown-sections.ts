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
  const splitter = new Splitter();
  for (const raw of normalizeNewlines(description).split('\n')) splitter.line(raw);
  return splitter.end();
}

/** Reads a description line by line: fenced code and comments are tracked across lines. */
class Splitter {
  private readonly preamble: string[] = [];
  private readonly sections: Section[] = [];
  private fence: string | null = null;
  private comment: string[] | null = null;
  // Lines go to the current section, or to the preamble before the first heading.
  private target = this.preamble;

  line(raw: string): void {
    const mark = leadingMark(raw);
    const fenceLike = mark === '`' || mark === '~';
    if (this.fence !== null) return this.inFence(raw, fenceLike);
    if (this.comment !== null) return this.inComment(raw);
    const open = fenceLike ? FENCE.exec(raw) : null;
    // Why: a backtick fence's info string cannot contain a backtick (CommonMark), so "```Acme```" is
    // inline code; treating it as an opening fence swallowed every heading after it.
    if (open && !(open[1]![0] === '`' && raw.slice(raw.indexOf(open[1]!) + open[1]!.length).includes('`'))) {
      this.fence = open[1]!;
      return;
    }
    const line = this.uncommented(raw);
    if (line === null) return;
    const heading = (line === raw ? mark : leadingMark(line)) === '#' ? HEADING.exec(line) : null;
    if (heading) {
      const text = headingText(heading[2]!);
      const section: Section = { heading: text, key: normalizeHeading(text), level: heading[1]!.length, lines: [] };
      this.sections.push(section);
      this.target = section.lines;
      return;
    }
    this.target.push(line);
  }

  end(): SplitDescription {
    if (this.comment !== null) {
      // An unclosed comment hides the rest, as GitLab renders it; keep only what came before it.
      // Why stripComments: slicing the first line at its last "<!--" kept earlier closed comments in it.
      for (const l of stripComments(this.comment.join('\n')).split('\n')) if (l.trim() !== '') this.target.push(l);
    }
    return { preamble: this.preamble, sections: this.sections };
  }

  private inFence(raw: string, fenceLike: boolean): void {
    const fence = this.fence!;
    const close = fenceLike ? FENCE.exec(raw) : null;
    if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length && raw.trim() === close[1])
      this.fence = null;
    else this.target.push(raw);
  }

  /** Inside a multi-line comment: collect until it closes, then strip it as one piece. */
  private inComment(raw: string): void {
    const comment = this.comment!;
    comment.push(raw);
    // Why check the rest: "--> text <!--" closes one comment and opens another; stopping at the first
    // "-->" let the second comment's lines (even "### headings" in it) through as answers.
    const close = raw.indexOf('-->');
    if (close < 0 || opensComment(raw.slice(close + 3))) return;
    this.comment = null;
    for (const l of stripComments(comment.join('\n')).split('\n')) if (l.trim() !== '') this.target.push(l);
  }

  /** The line without its comments; null when nothing is left of it, or a comment opens in it. */
  private uncommented(raw: string): string | null {
    const commentAt = raw.indexOf('<!--');
    if (commentAt < 0) return raw;
    // The common case, a template's one-line help comment, hides the whole line.
    if (
      raw.trimEnd().endsWith('-->') &&
      raw.indexOf('-->', commentAt + 4) === raw.lastIndexOf('-->') &&
      raw.slice(0, commentAt).trim() === '' &&
      raw.indexOf('<!--', commentAt + 4) < 0
    )
      return null;
    if (opensComment(raw)) {
      this.comment = [raw];
      return null;
    }
    const line = stripComments(raw);
    return line.trim() === '' ? null : line;
  }
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
