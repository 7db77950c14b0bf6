import { describe, expect, it } from 'vitest';
import { configProblemsComment, isConfigComment } from '../../src/domain/config-comment.js';

describe('the comment on a commit whose configuration the bot refused', () => {
  const body = configProblemsComment({
    file: '.gitlab/scale-bot.yml',
    blobId: 'b'.repeat(40),
    problems: [
      { path: 'routing.pools[2].members[1]', message: '"@all" is not in people', line: 306, column: 85 },
      { path: 'forms.x`y', message: '/close #1 ~"segment::mm"' },
    ],
    runningOn: 'c'.repeat(40),
  });

  it('lists every problem with its path and line:column, and says which configuration stays in use', () => {
    expect(body).toContain('- `routing.pools[2].members[1]` (line 306:85): ');
    expect(body).toContain("- `forms.x'y`: ");
    expect(body).toContain('keeps running with the last valid configuration (commit cccccccc)');
  });

  it('echoes configuration text without a mention, quick action or reference that could fire', () => {
    expect(body).not.toMatch(/@all\b/);
    expect(body).not.toMatch(/^\/close/m);
    expect(body).not.toContain('#1');
    expect(body).not.toContain('~"segment');
  });

  it('is recognised by its marker for the same file version only', () => {
    expect(isConfigComment(body, 'b'.repeat(40))).toBe(true);
    expect(isConfigComment(body, 'a'.repeat(40))).toBe(false);
    expect(isConfigComment("a person's comment", 'b'.repeat(40))).toBe(false);
  });
});
