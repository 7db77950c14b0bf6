import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const domainFile = 'src/domain/decide.ts';
const original = readFileSync(new URL(`../../${domainFile}`, import.meta.url), 'utf8');

// One ESLint for all cases: its first type-aware lint builds the TypeScript program (seconds, and
// far more on a loaded machine); the later ones reuse it.
const eslint = new ESLint({ cwd: root });

/** Lints src/domain/decide.ts with one line added, as if a change had added it. */
async function problemsWith(addedLine: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${original}\n${addedLine}\n`, { filePath: `${root}/${domainFile}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint keeps src/domain pure', { timeout: 120_000 }, () => {
  it('passes the domain file as it is', async () => {
    expect(await problemsWith('')).toEqual([]);
  });

  it.each([
    ["import { GitLabClient } from '../gitlab/client.js';", 'no-restricted-imports'],
    ["import { Inbox } from '../queue/inbox.js';", 'no-restricted-imports'],
    ["import { readFileSync } from 'node:fs';", 'no-restricted-imports'],
    ['export const token = () => process.env.GITLAB_TOKEN;', 'no-restricted-globals'],
    ['export const today = () => new Date();', 'no-restricted-syntax'],
    ['export const stamp = () => Date.now();', 'no-restricted-syntax'],
  ])('refuses %s', async (line, rule) => {
    const problems = await problemsWith(line);
    expect(problems.some((p) => p.startsWith(`${rule}:`))).toBe(true);
  });
});
