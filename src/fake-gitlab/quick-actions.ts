/**
 * Quick actions as GitLab extracts them from an issue description or a new comment
 * (`Gitlab::QuickActions::Extractor`): a known command at the very start of a line, outside code
 * blocks, HTML blocks and `>>>` quotes, is removed with its argument and executed. Carriage returns
 * are dropped and trailing whitespace trimmed, as the extractor does to the whole text.
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

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const COMMAND = /^\/([A-Za-z_]+)(?: (.*))?$/;

export function extractQuickActions(
  text: string,
  commands: readonly string[],
): { text: string; actions: QuickAction[] } {
  const known = new Set(commands);
  const lines = text.replace(/\r/g, '').split('\n');
  const kept: string[] = [];
  const actions: QuickAction[] = [];
  let fence: string | null = null;
  let block: 'comment' | 'html' | 'quote' | null = null;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence !== null) {
      if (new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).test(line)) fence = null;
    } else if (block === 'comment') {
      if (line.includes('-->')) block = null;
    } else if (block === 'html') {
      if (line.trim() === '') block = null;
    } else if (block === 'quote') {
      if (/^>>>\s*$/.test(line)) block = null;
    } else {
      const open = FENCE_OPEN.exec(line);
      if (open) fence = open[1]!;
      else if (/^ {0,3}<!--/.test(line))
        block = line.slice(line.indexOf('<!--') + 4).includes('-->') ? null : 'comment';
      else if (/^ {0,3}<\/?[A-Za-z]/.test(line)) block = 'html';
      else if (/^>>>/.test(line)) block = 'quote';
      else {
        const command = COMMAND.exec(line);
        const name = command?.[1]?.toLowerCase();
        if (name !== undefined && known.has(name)) {
          actions.push({ name, arg: (command?.[2] ?? '').trim() });
          // The extractor's `(?:\s*\n|$)` also swallows the blank line that ends the paragraph.
          if (lines[i + 1] === '') i++;
          continue;
        }
      }
    }
    kept.push(line);
  }
  return { text: kept.join('\n').trimEnd(), actions };
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
