/**
 * The one gate for user-provided text (customer names, field values) the bot echoes into a
 * GitLab note. The output reads like the input, but cannot:
 * - run a quick action: no line starts with `/`, not even after whitespace or `>` markers;
 * - mention anyone or reference anything: `@all`, `#12`, `group/project#12`, `!3`, `~"x y"`,
 *   `%"m"`, `&12`, `$12`, `^alert#1`...;
 * - inject HTML or spoof the bot's hidden `<!-- scale-bot:... -->` markers;
 * - open a code span or fence that swallows the rest of the note;
 * - make a link or image of its own (`[Verify](https://evil)`, `![x](y)`), or end the link text
 *   it is placed in;
 * - break out of a Markdown table cell (`cell` mode);
 * - hide or reorder what it shows: bidirectional controls and invisible characters are removed
 *   (`Evil\u202Egnp.exe` would display as `Evilexe.png`);
 * - make a note longer than GitLab takes: it is cut to `max` characters (an ellipsis ends it).
 */
import { cutText } from './text-limits.js';

/**
 * Inserted right after a reference or mention sigil. GitLab matches references in the text nodes
 * of the rendered HTML, after entities and backslash escapes are resolved, so `&#64;all` and
 * `\@all` still notify everyone. An invisible character survives rendering and breaks the match.
 */
export const ZWSP = '\u200B';

/**
 * The most characters of one user value echoed when nothing sets a limit of its own (a field's
 * `maxLength` does): longer text is cut, with an ellipsis. Escaping grows text at most sixfold
 * (`&` becomes `&amp;` and a ZWSP), so one echo stays far below GitLab's note limit.
 */
export const ECHO_MAX = 1_000;

export interface EchoOptions {
  /** Cut the user's text to this many characters (default `ECHO_MAX`). */
  max?: number;
}

/**
 * Characters that change how text is displayed without being seen: bidirectional controls
 * (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C) and default-ignorable ones (zero-width
 * space, joiners, word joiner, BOM, soft hyphen, variation selectors, tags...). Removing a joiner
 * can split a combined emoji into its parts; the text stays readable and shows what it holds.
 */
const INVISIBLE = /[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * `block`: multi-line text in a block of its own, lines kept.
 * `inline`: one line of text inside a sentence or list item.
 * `cell`: one Markdown table cell.
 */
export type NeutralizeMode = 'block' | 'inline' | 'cell';

/** Whatever Markdown, Ruby, browsers or editors may take for a line break. */
const LINE_BREAK = /\r\n|[\n\r\v\f\u2028\u2029]/;

/**
 * Characters to escape, and the `@`s that could start a mention. GitLab's mention pattern is
 * `(?<!\w)@`, so an `@` right after a letter or digit (jane@acme.com) stays intact to keep
 * emails readable, except where Markdown may end an HTML element just before it, which starts a
 * fresh text node: after `_` (emphasis in `_a_@all`) and after `x@y.z` (an email autolink in
 * `x@y.z@all`).
 */
const UNSAFE_CHAR = /[\\`|&<#!~%$^[\]]|@(?:(?<![A-Za-z0-9]@)|(?<=@[\w.-]*@))/g;

/** Reference sigils (`#12`, `!3`, `~bug`, `%m`, `&12`, `$12`, `^alert#1`) and the mention sigil. */
const SIGILS = new Set(['@', '#', '!', '~', '%', '&', '$', '^']);

const ESCAPES: Readonly<Record<string, string>> = {
  // The backslash itself too: otherwise the user's `\` would escape ours, and "\`" would come out
  // as "\\`", opening a code span after all.
  '\\': '\\\\',
  '`': '\\`',
  // A bracket never opens or closes link text: `\[x](y)` renders as text.
  '[': '\\[',
  ']': '\\]',
  // Only in `cell` mode.
  '|': '\\|',
  // Before `<` so no user text forms an entity or tag (`&lt;` is ours). The ZWSP that `&` gets,
  // like any sigil, goes after the whole entity: `&amp;\u200B12`.
  '&': '&amp;',
  '<': '&lt;',
};

/** A line GitLab could read as a quick action; also inside a blockquote, to be safe. */
const QUICK_ACTION_START = /^([\s>]*)\//;

/**
 * Makes user-provided `text` safe to echo into a GitLab note (see the module comment).
 * `block` keeps the lines, normalizing every line break to LF. `inline` and `cell` collapse each
 * run of whitespace that holds a line break into one space and trim, so the output is one line;
 * `cell` also escapes `|`, and whitespace-only input gives `''` there (render a placeholder).
 */
export function neutralize(text: string, mode: NeutralizeMode = 'inline', options: EchoOptions = {}): string {
  const visible = text.replace(INVISIBLE, '');
  const oneLine =
    mode === 'block' ? visible : visible.replace(/\s+/g, (run) => (LINE_BREAK.test(run) ? ' ' : run)).trim();
  const cut = cutText(oneLine, options.max ?? ECHO_MAX);
  const lines = mode === 'block' ? cut.split(LINE_BREAK) : [cut];
  return lines.map((line) => neutralizeLine(line, mode === 'cell')).join('\n');
}

export function neutralizeBlock(text: string, options?: EchoOptions): string {
  return neutralize(text, 'block', options);
}

export function neutralizeInline(text: string, options?: EchoOptions): string {
  return neutralize(text, 'inline', options);
}

export function neutralizeCell(text: string, options?: EchoOptions): string {
  return neutralize(text, 'cell', options);
}

function neutralizeLine(line: string, inCell: boolean): string {
  // One pass, so each decision sees the user's own neighbours and nothing we insert is escaped.
  const escaped = line.replace(UNSAFE_CHAR, (ch: string, offset: number) => {
    if (ch === '|' && !inCell) return ch;
    // Any sigil not followed by whitespace or the end could start a reference: rather than track
    // every GitLab pattern (`#12`, `~"x"`, `%"m"`, `!_x`, `&(`...), break them all.
    const next = line[offset + 1];
    const mayReference = SIGILS.has(ch) && next !== undefined && !/\s/.test(next);
    return (ESCAPES[ch] ?? ch) + (mayReference ? ZWSP : '');
  });
  // `\/` renders as `/`, but the raw line no longer starts with `/`.
  return escaped.replace(QUICK_ACTION_START, '$1\\/');
}
