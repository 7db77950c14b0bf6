import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ECHO_MAX,
  neutralize,
  neutralizeBlock,
  neutralizeCell,
  neutralizeInline,
  ZWSP,
  type NeutralizeMode,
} from '../../src/domain/markdown-safety.js';

// Written out here rather than taken from the module, so the tests pin the actual character.
const Z = '\u200B';
const MODES: readonly NeutralizeMode[] = ['block', 'inline', 'cell'];
const NUM_RUNS = 2000;

// ---------------------------------------------------------------------------------------------
// Independent models of what GitLab does with the output.

/**
 * The text GitLab's reference filters see: the note rendered, i.e. Markdown backslash escapes of
 * ASCII punctuation and HTML entities resolved (in one pass, as CommonMark does).
 */
function renderedText(markdown: string): string {
  return markdown.replace(
    /\\([!-/:-@[-`{-~])|&(?:#(\d{1,7})|#[xX]([\da-fA-F]{1,6})|(amp|lt|gt|quot));/g,
    (_match, escaped?: string, dec?: string, hex?: string, named?: string) => {
      if (escaped !== undefined) return escaped;
      if (named !== undefined) return { amp: '&', lt: '<', gt: '>', quot: '"' }[named] ?? '';
      const codePoint = dec !== undefined ? Number(dec) : parseInt(hex ?? '', 16);
      return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\uFFFD';
    },
  );
}

// GitLab-like detectors, run over the rendered text. The mention one treats `_` as a possible end
// of a text node (it closes emphasis: `_a_@all`), so it is stricter than GitLab's `(?<!\w)@`.
const MENTION = /(?<![A-Za-z0-9])@[A-Za-z0-9_]/;
// `x@y.z` is auto-linked as an email, so a following `@all` starts a text node of its own.
const MENTION_AFTER_EMAIL_LINK = /@[\w.-]*@[A-Za-z0-9_]/;
const REFERENCE = /[#!~%&$^][A-Za-z0-9_"[(-]/;
// Broader still: a reference sigil may only be followed by the ZWSP, whitespace or the end.
const ARMED_SIGIL = /[#!~%&$^](?![\s\u200B]|$)/;

const ANY_LINE_BREAK = /\r\n|[\n\r\v\f\u2028\u2029]/;
const QUICK_ACTION_LINE = /^[\s>]*\//;

/** Inverse of the encoding, for the round trip: drops the ZWSPs, undoes our escapes. */
function decode(output: string): string {
  return output
    .replaceAll(Z, '')
    .replace(
      /\\([\\`|/[\]])|&(amp|lt);/g,
      (_match, escaped?: string, entity?: string) => escaped ?? (entity === 'amp' ? '&' : '<'),
    );
}

// ---------------------------------------------------------------------------------------------
// Generators: full unicode mixed with a heavy bias towards the dangerous characters and snippets.

const DANGEROUS = [
  '/',
  '@',
  '#',
  '!',
  '~',
  '%',
  '&',
  '$',
  '^',
  '<',
  '>',
  '|',
  '`',
  '\\',
  '"',
  '[',
  '(',
  '_',
  '-',
  '.',
  ';',
  ':',
  'a',
  'Z',
  '1',
  ' ',
  '\t',
  '\u00A0',
  '\uFEFF',
  '\n',
  '\r',
  '\r\n',
  '\v',
  '\f',
  '\u2028',
  '\u2029',
  '&amp;',
  '&#64;',
  '&#x40;',
  '<!--',
  '-->',
  '/close',
  '@all',
  '~~~',
  '```',
  '>>>',
];
const unit = (extra: readonly string[]) =>
  fc.oneof(fc.constantFrom(...DANGEROUS, ...extra), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
// Invisible characters that reorder or hide text: bidi overrides and isolates, marks, joiners, BOM.
const INVISIBLES = [
  '\u202E',
  '\u202D',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200E',
  '\u200F',
  '\u061C',
  '\u200C',
  '\u200D',
  '\u2060',
  '\u00AD',
];
const userText = fc.string({ unit: unit([Z, ...INVISIBLES]), maxLength: 40 });
/** What the user's text shows: the invisible characters removed (the module's definition, pinned here). */
const visible = (text: string) => text.replace(/[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/gu, '');

const modeArb = fc.constantFrom(...MODES);

// ---------------------------------------------------------------------------------------------

describe('neutralize: examples', () => {
  const cases: ReadonlyArray<[string, NeutralizeMode, string, string]> = [
    // [description, mode, input, expected]
    ['quick action', 'inline', '/close', '\\/close'],
    ['quick action after spaces', 'block', '  /assign @me', `  \\/assign @${Z}me`],
    ['quick action after spaces, inline trims', 'inline', '  /assign @me', `\\/assign @${Z}me`],
    ['quick action in a blockquote', 'block', '> /close', '> \\/close'],
    ['quick action in a nested blockquote', 'block', '>>/close', '>>\\/close'],
    ['quick action after a no-break space', 'block', '\u00A0/close', '\u00A0\\/close'],
    ['slash inside a line stays', 'inline', 'and/or 1/2', 'and/or 1/2'],
    ['quick action in a cell', 'cell', '/close', '\\/close'],
    ['@all', 'inline', '@all', `@${Z}all`],
    ['@user with a dot', 'inline', '@jane.doe', `@${Z}jane.doe`],
    ['mention in a sentence', 'inline', 'hello @all!', `hello @${Z}all!`],
    ['email stays intact', 'inline', 'jane@acme.com', 'jane@acme.com'],
    ['mention after emphasis', 'inline', 'x _a_@all', `x _a_@${Z}all`],
    ['mention after an email autolink', 'inline', 'a@b.c@all', `a@b.c@${Z}all`],
    ['lone @ before a space', 'inline', 'meet @ noon', 'meet @ noon'],
    ['issue', 'inline', '#12', `#${Z}12`],
    ['cross-project issue', 'inline', 'gitlab-org/gitlab#12', `gitlab-org/gitlab#${Z}12`],
    ['merge request', 'inline', '!3', `!${Z}3`],
    ['label', 'inline', '~bug', `~${Z}bug`],
    ['quoted label', 'inline', '~"needs info"', `~${Z}"needs info"`],
    ['quoted milestone', 'inline', '%"v1.0"', `%${Z}"v1.0"`],
    ['epic', 'inline', '&12', `&amp;${Z}12`],
    ['snippet', 'inline', '$12', `$${Z}12`],
    ['alert', 'inline', '^alert#1', `^${Z}alert#${Z}1`],
    ['sigils before whitespace or at the end stay', 'inline', '50 % off, C#', '50 % off, C#'],
    ['ampersand in a name', 'inline', 'AT&T', `AT&amp;${Z}T`],
    ['hidden marker', 'inline', '<!-- scale-bot:tracker -->', `&lt;!${Z}-- scale-bot:tracker -->`],
    ['HTML tag', 'inline', '<img src=x>', '&lt;img src=x>'],
    ['entity-encoded mention', 'inline', '&#64;all', `&amp;${Z}#${Z}64;all`],
    ['code span', 'inline', '`code`', '\\`code\\`'],
    ['code fence', 'block', '```js\nx\n```', '\\`\\`\\`js\nx\n\\`\\`\\`'],
    ['tilde fence', 'block', '~~~', `~${Z}~${Z}~`],
    ['backslash before a backtick', 'inline', '\\`', '\\\\\\`'],
    ['windows path', 'inline', 'C:\\temp', 'C:\\\\temp'],
    ['link', 'inline', '[Verify](https://evil.example)', '\\[Verify\\](https://evil.example)'],
    ['image', 'inline', '![img](http://evil/x.png)', `!${Z}\\[img\\](http://evil/x.png)`],
    ['javascript link', 'cell', '[x](javascript:alert(1))', '\\[x\\](javascript:alert(1))'],
    ['reference-style link', 'block', '[a][1]\n[1]: https://evil', '\\[a\\]\\[1\\]\n\\[1\\]: https://evil'],
    ['pipe in a cell', 'cell', 'a|b', 'a\\|b'],
    ['pipe inline stays', 'inline', 'a|b', 'a|b'],
    ['escaped pipe in a cell', 'cell', 'a\\|b', 'a\\\\\\|b'],
    ['multiline block', 'block', 'one\n/close\n> two', 'one\n\\/close\n> two'],
    ['CRLF and CR in block', 'block', 'one\r\n/close\rthree', 'one\n\\/close\nthree'],
    ['other line breaks in block', 'block', 'a\u2028/b\u2029c\vd\fe', 'a\n\\/b\nc\nd\ne'],
    ['multiline inline', 'inline', 'one\r\n/close\r\n\r\nthree', 'one /close three'],
    ['multiline cell', 'cell', ' one \n\n two|three ', 'one two\\|three'],
    ['unicode line breaks inline', 'inline', 'a\u2028b\u2029c\vd\fe', 'a b c d e'],
    ['whitespace without line break kept', 'inline', 'a  b\tc', 'a  b\tc'],
    ['empty cell', 'cell', '', ''],
    ['whitespace-only cell', 'cell', ' \r\n\t ', ''],
    ['blank lines kept in block', 'block', 'a\n\n  \nb', 'a\n\n  \nb'],
    ['right-to-left override', 'inline', 'Evil\u202Egnp.exe', 'Evilgnp.exe'],
    ['bidi isolates and marks', 'cell', '\u2067abc\u2069\u200F.\u200Epng\u061C', 'abc.png'],
    ['zero-width characters', 'inline', 'Ac\u200Bme\u200C \u200DCorp\u2060\uFEFF', 'Acme Corp'],
    ['a zero-width space cannot hide a quick action', 'block', '\u200B/close', '\\/close'],
    ['a user ZWSP does not count as ours', 'inline', '@\u200Ball', `@${Z}all`],
  ];

  it.each(cases)('%s (%s)', (_description, mode, input, expected) => {
    expect(neutralize(input, mode)).toBe(expected);
  });

  it('defaults to inline', () => {
    expect(neutralize('a\n@all')).toBe(`a @${Z}all`);
  });

  it('exports the zero-width space and mode wrappers', () => {
    expect(ZWSP).toBe(Z);
    const input = ' a|b\n/c @d ';
    expect(neutralizeBlock(input)).toBe(neutralize(input, 'block'));
    expect(neutralizeInline(input)).toBe(neutralize(input, 'inline'));
    expect(neutralizeCell(input)).toBe(neutralize(input, 'cell'));
  });

  it('an entity-encoded mention does not decode into a live one', () => {
    const rendered = renderedText(neutralize('&#64;all &#x40;all &commat;all'));
    expect(rendered).toBe(`&${Z}#${Z}64;all &${Z}#${Z}x40;all &${Z}commat;all`);
    expect(rendered).not.toMatch(MENTION);
  });
});

describe('neutralize: properties', () => {
  for (const mode of MODES) {
    it(`${mode}: no mention or reference survives rendering`, () => {
      fc.assert(
        fc.property(userText, (input) => {
          const rendered = renderedText(neutralize(input, mode));
          expect(rendered).not.toMatch(MENTION);
          expect(rendered).not.toMatch(MENTION_AFTER_EMAIL_LINK);
          expect(rendered).not.toMatch(REFERENCE);
          expect(rendered).not.toMatch(ARMED_SIGIL);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it(`${mode}: no quick action, HTML, entity or code span from user text`, () => {
      fc.assert(
        fc.property(userText, (input) => {
          const output = neutralize(input, mode);
          for (const line of output.split(ANY_LINE_BREAK)) {
            expect(line).not.toMatch(QUICK_ACTION_LINE);
          }
          expect(output).not.toContain('<');
          // Every `&` is ours (`&amp;`, `&lt;`): no user entity gets decoded.
          expect(output).not.toMatch(/&(?!amp;|lt;)/);
          // Every backtick and bracket is escaped by an odd run of backslashes: no code span, and
          // no link or image (`[text](url)`, `![x](y)`) of the user's own, nor an end to ours.
          expect(output).not.toMatch(/(?<!\\)(?:\\\\)*[`[\]]/);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }

  it('block: only LF line breaks', () => {
    fc.assert(
      fc.property(userText, (input) => {
        expect(neutralize(input, 'block')).not.toMatch(/[\r\v\f\u2028\u2029]/);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  for (const mode of ['inline', 'cell'] as const) {
    it(`${mode}: one trimmed line`, () => {
      fc.assert(
        fc.property(userText, (input) => {
          const output = neutralize(input, mode);
          expect(output).not.toMatch(ANY_LINE_BREAK);
          expect(output).toBe(output.trim());
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }

  it('cell: every pipe is escaped, whitespace-only input gives an empty cell', () => {
    fc.assert(
      fc.property(userText, (input) => {
        const output = neutralize(input, 'cell');
        expect(output).not.toMatch(/[\r\n]/);
        // Escaped by an odd run of backslashes: in `\\|` the pipe would split the cell.
        expect(output).not.toMatch(/(?<!\\)(?:\\\\)*\|/);
        if (input.trim() === '') expect(output).toBe('');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('block: readable, decoding gives the visible input back with line breaks normalized to LF', () => {
    fc.assert(
      fc.property(userText, (input) => {
        const expected = visible(input).split(ANY_LINE_BREAK).join('\n');
        expect(decode(neutralize(input, 'block'))).toBe(expected);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  for (const mode of ['inline', 'cell'] as const) {
    it(`${mode}: readable, decoding gives the visible input back with line breaks collapsed`, () => {
      fc.assert(
        fc.property(userText, (input) => {
          const expected = visible(input)
            .split(/\s*(?:\r\n|[\n\r\v\f\u2028\u2029])\s*/)
            .join(' ')
            .trim();
          expect(decode(neutralize(input, mode))).toBe(expected);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }

  it('shows no invisible character of the user: the only one left is our ZWSP after a sigil', () => {
    fc.assert(
      fc.property(userText, modeArb, (input, mode) => {
        const output = neutralize(input, mode).replace(new RegExp(`([@#!~%$^]|&amp;)${Z}`, 'g'), '$1');
        expect(visible(output)).toBe(output);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never throws, on any unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), modeArb, (input, mode) => {
        expect(typeof neutralize(input, mode)).toBe('string');
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('neutralize: length', () => {
  it('cuts the text to `max` characters, ending with an ellipsis, before escaping', () => {
    const name = 'Acme '.repeat(198_000); // a 990 KB customer name
    const out = neutralizeInline(name, { max: 120 });
    expect(Array.from(out)).toHaveLength(120);
    expect(out.endsWith('…')).toBe(true);
    expect(out.startsWith('Acme Acme')).toBe(true);
    expect(neutralizeInline('Acme', { max: 120 })).toBe('Acme');
    expect(neutralizeInline('x'.repeat(120), { max: 120 })).toBe('x'.repeat(120));
  });

  it("cuts to ECHO_MAX by default: 200,000 `&` no longer grow past GitLab's note limit", () => {
    const out = neutralizeCell('&'.repeat(200_000));
    expect(out).toBe(`${`&amp;${Z}`.repeat(ECHO_MAX - 1)}…`);
    expect(out.length).toBeLessThan(6 * ECHO_MAX);
  });

  it('never splits an emoji', () => {
    expect(neutralizeInline('😀'.repeat(10), { max: 4 })).toBe('😀😀😀…');
  });

  it('output is at most six UTF-16 units per character kept, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: unit([Z, ...INVISIBLES]), maxLength: 400 }),
        fc.integer({ min: 1, max: 60 }),
        modeArb,
        (input, max, mode) => {
          expect(neutralize(input, mode, { max }).length).toBeLessThanOrEqual(6 * max);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
