import { describe, expect, it } from 'vitest';
import { inspectText } from '../../src/fake-gitlab/note-safety.js';

const flagged = (text: string) => {
  const f = inspectText(text);
  return [...f.quickActions, ...f.mentions.map((m) => `@${m}`), ...f.references];
};

describe('inspectText', () => {
  it('finds quick action lines, also indented, but not escaped or fenced', () => {
    expect(flagged('ok\n/close\n  /label ~x')).toEqual(['/close', '/label ~x', '~x']);
    expect(flagged('\\/close')).toEqual([]);
    expect(flagged('~~~\n/close\n~~~\n````\n/close\n```\n````')).toEqual([]);
  });

  it('finds mentions and references in rendered text: entities and escapes resolved', () => {
    expect(flagged('&#64;all &commat;here \\@all @alex.ae.')).toEqual(['@all', '@here', '@all', '@alex.ae']);
    expect(flagged('#12 !3 &7 &amp;8 ~foo ~"a b" ~5 %v1 %"next one"')).toEqual([
      '#12',
      '!3',
      '&7',
      '&8',
      '~foo',
      '~"a b"',
      '~5',
      '%v1',
      '%"next one"',
    ]);
  });

  it('ignores code, comments, links, emails, strikethrough and zero-width-broken sigils', () => {
    const text = [
      '`@all #12` and ``a ` @all``',
      '<!-- scale-bot:tracker state=#3 @all -->',
      '[@all](https://example.com/#12) https://example.com/@all?q=%20',
      'jane@acme.com ~~gone~~ 80%, C#',
      '@\u200Ball #\u200B12 ~\u200Bfoo %\u200Bm &\u200B7 !\u200B3',
    ].join('\n');
    expect(flagged(text)).toEqual([]);
  });
});
