/**
 * What GitLab would act on in a text the bot writes (a note or a description), so tests can prove
 * the bot never runs a quick action, notifies anyone it did not mean to, or cross-references
 * issues by echoing user text.
 *
 * Deliberately stricter than GitLab where that is cheap: a `/` after leading whitespace counts as a
 * quick action (GitLab needs column 0), `\@all` and `&#64;all` count as mentions (GitLab matches
 * references in rendered text, after escapes and entities are resolved).
 */

export interface TextFindings {
  /** Lines outside fenced code that GitLab could run as a quick action. */
  quickActions: string[];
  /** Usernames of active `@mentions` (including `all`, `here`). */
  mentions: string[];
  /** Active references: `#12`, `!3`, `~label`, `~"a b"`, `%milestone`, `&7`. */
  references: string[];
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;

/** Splits lines into those outside fenced code blocks (kept) and inside (blanked). */
function outsideFences(text: string): string[] {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of text.split(/\r\n|[\n\r]/)) {
    if (fence !== null) {
      if (new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).test(line)) fence = null;
      out.push('');
      continue;
    }
    const open = FENCE_OPEN.exec(line);
    if (open) {
      fence = open[1]!;
      out.push('');
      continue;
    }
    out.push(line);
  }
  return out;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  commat: '@',
  num: '#',
  excl: '!',
  percnt: '%',
  tilde: '~',
  sol: '/',
  bsol: '\\',
  grave: '`',
};

function decodeEntities(text: string): string {
  return text.replace(
    /&(?:#(\d+)|#[xX]([0-9A-Fa-f]+)|([A-Za-z]+));/g,
    (whole, dec?: string, hex?: string, name?: string) => {
      if (dec !== undefined || hex !== undefined) {
        const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex!, 16);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return NAMED_ENTITIES[name!] ?? whole;
    },
  );
}

/** The text GitLab's reference filters would see: no code, comments, links or escapes. */
function renderedText(lines: string[]): string {
  return decodeEntities(
    lines
      .join('\n')
      .replace(/<!--[\s\S]*?-->/g, ' ')
      // Code spans: a run of backticks closed by a run of the same length.
      .replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, ' ')
      // Text inside links is never turned into references.
      .replace(/!?\[[^\]\n]*\]\([^)\n]*\)/g, ' ')
      .replace(/<https?:\/\/[^>\s]*>|\bhttps?:\/\/[^\s<>]+/g, ' ')
      // Markdown backslash escapes render as the bare character.
      .replace(/\\([!-/:-@[-`{-~])/g, '$1'),
  );
}

const MENTION = /(?<!\w)@([A-Za-z0-9_][A-Za-z0-9_.-]*)/g;
/**
 * Sigils GitLab turns into links when a name or number follows right away. A zero-width space
 * after the sigil names nothing that can exist, so it is safe.
 */
const REFERENCE =
  /#\d+\b|!\d+\b|&\d+\b|(?<!~)~(?!~)(?:"[^"\n]+"|[A-Za-z0-9_\-?.&]+)|%(?:"[^"\n]+"|[A-Za-z0-9_][^\s"<]*\b)/g;

export function inspectText(text: string): TextFindings {
  const lines = outsideFences(text);
  const quickActions = lines.filter((line) => /^\s*\//.test(line)).map((line) => line.trim());
  const rendered = renderedText(lines);
  const mentions = [...rendered.matchAll(MENTION)].map((m) => m[1]!.replace(/\.+$/, ''));
  const references = [...rendered.matchAll(REFERENCE)].map((m) => m[0]);
  return { quickActions, mentions, references };
}
