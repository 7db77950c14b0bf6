import MarkdownIt from 'markdown-it';

/**
 * Quick actions as GitLab extracts them from an issue description or a comment, new or edited
 * (`Gitlab::QuickActions::Extractor#perform_regex`, lib/gitlab/quick_actions/extractor.rb):
 * 1. carriage returns are dropped;
 * 2. the Markdown is parsed (`Banzai::Pipeline::QuickActionPipeline`) and only the document's
 *    top-level paragraphs with a line starting with `/` are searched
 *    (`Banzai::Filter::QuickActionFilter`, lib/banzai/filter/quick_action_filter.rb): nothing in
 *    code blocks, HTML blocks, blockquotes (`>` or GitLab's `>>>`), list items or tables runs;
 * 3. in such a paragraph (and the blank line after it) `commands_regex` skips inline code
 *    (`` `.+?` ``, across lines) and `<tag>` … `</tag>` blocks, and removes each known command at
 *    the very start of a line with its argument (`^\/(?<cmd>…)(?:[ ](?<arg>[^\n]*))?(?:\s*\n|$)`);
 * 4. the text is right-trimmed.
 * The fake parses with markdown-it (CommonMark plus GFM tables, as GitLab's comrak does); GitLab
 * checks a paragraph's rendered text for a line starting with `/`, the fake its source lines, which
 * differs only where the regex's inline-code exclusion skips the line anyway.
 */

export interface QuickAction {
  /** Lower-cased command name, e.g. `label`. */
  name: string;
  /** The rest of the line, trimmed (may be empty). */
  arg: string;
}

/**
 * Commands this fake executes. GitLab knows many more; unknown ones stay as text, as in GitLab.
 * Only commands whose `condition` holds are extracted (`QuickActions::InterpretService`), and in
 * `lib/gitlab/quick_actions/issuable_actions.rb` `/close`, `/reopen`, `/unlabel` and `/relabel`
 * require `quick_action_target.persisted?`: in a new issue's description they stay as text.
 * `/label` applies only labels that exist (`find_labels`), and is unavailable when none match.
 */
export const CREATE_COMMANDS = ['label', 'labels', 'assign'] as const;
export const UPDATE_COMMANDS = [
  'label',
  'labels',
  'unlabel',
  'remove_label',
  'relabel',
  'assign',
  'unassign',
  'close',
  'reopen',
] as const;

/** GitLab's Markdown for the fake: CommonMark with GFM tables (a line after a table row is a row). */
const markdown = new MarkdownIt('commonmark').enable(['table', 'strikethrough']);

/**
 * GitLab's `>>>` multi-line blockquote as a `>` blockquote of the same lines, so the parser sees
 * the same blocks (comrak's `multiline_block_quotes`, which GitLab enables).
 */
function withPlainQuotes(lines: string[]): string {
  let inQuote = false;
  return lines
    .map((line) => {
      if (inQuote ? /^>>>\s*$/.test(line) : /^>>>/.test(line)) {
        inQuote = !inQuote;
        return '>';
      }
      return inQuote ? `> ${line}` : line;
    })
    .join('\n');
}

/** Source lines [start, end] of the top-level paragraphs that have a line starting with `/`. */
function candidateParagraphs(lines: string[]): Array<{ start: number; end: number }> {
  const found: Array<{ start: number; end: number }> = [];
  for (const token of markdown.parse(withPlainQuotes(lines), {})) {
    if (token.type !== 'paragraph_open' || token.level !== 0 || !token.map) continue;
    const [start, endExclusive] = token.map;
    if (lines.slice(start, endExclusive).some((line) => line.startsWith('/')))
      found.push({ start, end: endExclusive - 1 });
  }
  return found;
}

/**
 * `commands_regex`, Ruby's `mix` flags translated: `.` spans lines (`s`), `^`/`$` are line anchors
 * for `\n` only (lookarounds, as JS's `m` would also break at U+2028), `\s` is ASCII whitespace.
 */
function commandsRegex(names: readonly string[]): RegExp {
  const union = names.map((n) => n.replace(/[^A-Za-z0-9_]/g, '\\$&')).join('|');
  const lineStart = '(?:^|(?<=\\n))';
  const lineEnd = '(?=\\n|$)';
  return new RegExp(
    [
      '`.+?`',
      `${lineStart}<[^>]+?>\\n.+?\\n<\\/[^>]+?>${lineEnd}`,
      `${lineStart}\\/(?<cmd>${union})(?:[ ](?<arg>[^\\n]*))?(?:[ \\t\\n\\v\\f\\r]*\\n|${lineEnd})`,
    ].join('|'),
    'gis',
  );
}

export function extractQuickActions(
  text: string,
  commands: readonly string[],
): { text: string; actions: QuickAction[] } {
  const content = text.replace(/\r/g, '');
  // Ruby's `String#lines`: each line keeps its `\n`.
  const contentLines: string[] = content.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const bare = contentLines.map((l) => l.replace(/\n$/, ''));
  const actions: QuickAction[] = [];
  const regex = commandsRegex(commands);
  for (const { start, end } of candidateParagraphs(bare)) {
    const last = contentLines[end + 1] === '\n' ? end + 1 : end;
    const paragraph = contentLines.slice(start, last + 1).join('');
    const replaced = paragraph.replace(regex, (whole, ...rest: unknown[]) => {
      const groups = rest[rest.length - 1] as { cmd?: string; arg?: string };
      if (groups.cmd === undefined) return whole;
      actions.push({ name: groups.cmd.toLowerCase(), arg: (groups.arg ?? '').trim() });
      return '';
    });
    contentLines.fill('', start, last + 1);
    contentLines[start] = replaced;
  }
  return { text: contentLines.join('').trimEnd(), actions };
}

export type LabelRef = { id: number } | { name: string };

/**
 * Labels named by `/label`, `/unlabel`, `/relabel`: `~foo ~"bar baz" ~12 ~scope::value`; without
 * any `~`, a comma-separated list of names (GitLab's `find_labels_by_name_no_tilde`).
 */
export function parseLabelArg(arg: string): LabelRef[] {
  if (!arg.includes('~')) {
    return arg
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((name) => ({ name }));
  }
  const refs: LabelRef[] = [];
  for (const m of arg.matchAll(/~(?:"([^"]+)"|(\d+)\b|([A-Za-z0-9_\-?.&]+(?:::[A-Za-z0-9_\-?.&]+)*))/g)) {
    if (m[1] !== undefined) refs.push({ name: m[1] });
    else if (m[2] !== undefined) refs.push({ id: Number(m[2]) });
    else if (m[3] !== undefined) refs.push({ name: m[3] });
  }
  return refs;
}

/** Users named by `/assign`, `/unassign`: `@alice @bob`, `me`; without any `@`, plain usernames. */
export function parseUserArg(arg: string): Array<{ me: true } | { username: string }> {
  const words = arg.split(/[\s,]+/).filter((w) => w !== '');
  const mentions = [...arg.matchAll(/(?<!\w)@([A-Za-z0-9_][A-Za-z0-9_.-]*)/g)].map((m) => m[1]!.replace(/\.+$/, ''));
  const names = mentions.length > 0 ? mentions : words.filter((w) => w !== 'me');
  return [...(words.includes('me') ? [{ me: true as const }] : []), ...names.map((username) => ({ username }))];
}
