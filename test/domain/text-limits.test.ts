import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cutText,
  DESCRIPTION_MAX_BYTES,
  fitDescription,
  fitText,
  NOTE_MAX_CHARS,
  utf8Length,
} from '../../src/domain/text-limits.js';

describe('GitLab text limits', () => {
  it('are the ones GitLab validates (MAX_TEXT_SIZE_LIMIT characters for notes, DESCRIPTION_LENGTH_MAX = 1.megabyte of UTF-8)', () => {
    expect(NOTE_MAX_CHARS).toBe(1_000_000);
    expect(DESCRIPTION_MAX_BYTES).toBe(1_048_576);
  });

  it("counts UTF-8 bytes as Ruby's String#bytesize does (a lone surrogate as U+FFFD)", () => {
    for (const text of ['', 'abc', 'é', '—', '\u200B', '🙂', 'a\uD800b', '&amp;\u200B12'])
      expect(utf8Length(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).length);
  });
});

describe('cutText', () => {
  it('keeps short text, cuts long text to max characters ending with an ellipsis', () => {
    expect(cutText('Acme', 4)).toBe('Acme');
    expect(cutText('Acme Corp', 5)).toBe('Acme…');
    expect(cutText('🙂🙂🙂', 3)).toBe('🙂🙂🙂');
    expect(cutText('🙂🙂🙂🙂', 3)).toBe('🙂🙂…');
  });
});

describe('fitText', () => {
  const marker = '<!-- scale-bot:request state=abc -->';

  it('leaves text within the limit alone', () => {
    expect(fitText(`${marker}\nhello`, 100)).toBe(`${marker}\nhello`);
  });

  it('cuts longer text at a line break, keeps the marker line, and says so', () => {
    const text = `${marker}\n${'- a line of the note\n'.repeat(100)}`;
    const fitted = fitText(text, 600);
    expect(fitted.length).toBeLessThanOrEqual(600);
    expect(fitted.startsWith(`${marker}\n- a line of the note\n`)).toBe(true);
    expect(fitted).toMatch(/\n- a line of the note\n\n\*\(Cut here: GitLab takes at most 600 characters\.\)\*$/);
  });

  it('any text: within the limit, a prefix of it, never a split surrogate pair, and stable (fitting twice changes nothing)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '\n', '🙂', '&amp;', ' '), maxLength: 400 });
    fc.assert(
      fc.property(text, fc.integer({ min: 80, max: 300 }), (t, max) => {
        const fitted = fitText(t, max);
        expect(fitted.length).toBeLessThanOrEqual(max);
        expect(fitText(fitted, max)).toBe(fitted);
        const kept = fitted === t ? t : fitted.slice(0, fitted.lastIndexOf('\n\n*(Cut here'));
        expect(t.startsWith(kept)).toBe(true);
        expect(kept).not.toMatch(/[\uD800-\uDBFF]$/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('fitDescription', () => {
  it('leaves a description within 1 MiB of UTF-8 alone, even when it is long in characters', () => {
    const text = 'é'.repeat(524_288);
    expect(fitDescription(text)).toBe(text);
  });

  it('cuts one over the limit in bytes (not characters) at a line break, and says so', () => {
    const line = `| ${'—'.repeat(60)} |\n`; // 60 three-byte characters a line
    const text = `# Report\n${line.repeat(6_000)}`; // 370,000 characters, over 1.1 million bytes
    expect(text.length).toBeLessThan(DESCRIPTION_MAX_BYTES);
    const fitted = fitDescription(text);
    expect(utf8Length(fitted)).toBeLessThanOrEqual(DESCRIPTION_MAX_BYTES);
    expect(fitted.startsWith(`# Report\n${line}`)).toBe(true);
    expect(fitted).toMatch(/ \|\n\n\*\(Cut here: GitLab takes at most 1,048,576 bytes\.\)\*$/);
    expect(fitDescription(fitted)).toBe(fitted);
  });
});
